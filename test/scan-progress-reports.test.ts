// The local scan reports progress at most every 50 ms, not after every batch of 64 files (issue 10:
// a report per batch made one job event per percent, each a structured clone of the job's info,
// 4–6% of a 10k-file scan's profile). The clock is stubbed, so nothing here depends on speed.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { LocalStorage } from '../src/storage/local.js';
import { listSourceFiles, scanFiles } from '../src/scan/file-scan.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import type { FileStat } from '../src/scanner.js';
import { tempDir } from './helpers/tmp.js';

const FILES = 300; // five batches of 64
let lake: string;
let storage: LocalStorage;
let listed: FileStat[];

beforeAll(async () => {
  lake = tempDir();
  await writeManyParquetFiles(lake, FILES);
});

// Listed per test (300 local files: cheap) in a beforeEach, not in beforeAll: lakemap run from beforeAll makes
// Stryker mutants static (docs/testing.md). A hook, so the listing runs before each test stubs the clock.
beforeEach(async () => {
  storage = new LocalStorage(lake);
  listed = await listSourceFiles(storage, parquetScanner, { format: 'parquet' }, false);
});
afterEach(() => vi.restoreAllMocks());

async function reports(): Promise<[number, number][]> {
  const seen: [number, number][] = [];
  const ctx = { spec: { format: 'parquet' }, signal: new AbortController().signal };
  const res = await scanFiles(storage, parquetScanner, ctx, listed, undefined, { progress: (d, t) => void seen.push([d, t]), skipped: () => {} }, 64);
  expect(res.files).toHaveLength(FILES);
  return seen;
}

describe('progress of the local scan', () => {
  it('is reported once at the end when the scan takes no time', async () => {
    vi.spyOn(performance, 'now').mockReturnValue(1000);
    expect(await reports()).toEqual([[FILES, FILES]]);
  });

  it('is reported after each batch when each takes longer than 50 ms, rising to the total', async () => {
    let t = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (t += 60));
    const seen = await reports();
    expect(seen.map(([d]) => d)).toEqual([64, 128, 192, 256, 300, 300]);
    expect(seen.every(([, total]) => total === FILES)).toBe(true);
  });
});
