// Issue 8 item 3: on the pipelined scan path (object stores, mounts) every tail is read into a fresh
// buffer held until its probe ends, so tails count against the process's read budget like footers do.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBudget, shareReadBudget } from '../src/scan/budget.js';
import { listSourceFiles, scanFiles } from '../src/scan/file-scan.js';
import { LocalStorage } from '../src/storage/local.js';
import type { ScanStorage } from '../src/storage/scan-storage.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir } from './helpers/tmp.js';

const TAIL = parquetScanner.tailBytes!;
const hooks = { progress: () => {}, skipped: () => {} };
const ctx = () => ({ spec: { format: 'parquet' }, signal: new AbortController().signal });

function lake(n: number): LocalStorage {
  const dir = tempDir();
  const footer = encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 1));
  for (let i = 0; i < n; i++) writeSyntheticParquet(path.join(dir, `f${i}.parquet`), footer, { pageBytes: TAIL });
  return new LocalStorage(dir);
}

/** The storage's asynchronous members only, tails answering after a little latency; counts tails in flight. */
function remote(local: LocalStorage, stats: { inFlight: number; peak: number; budgetPeak: number }): ScanStorage {
  return {
    root: local.root,
    stat: (p) => local.stat(p),
    read: (p, o, l) => local.read(p, o, l),
    readFile: (p, m) => local.readFile(p, m),
    list: (d) => local.list(d),
    readTail: async (p, want) => {
      stats.inFlight++;
      stats.peak = Math.max(stats.peak, stats.inFlight);
      stats.budgetPeak = Math.max(stats.budgetPeak, readBudget.inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return local.readTailSync(p, want);
      } finally {
        stats.inFlight--;
      }
    },
  };
}

const original = { limit: readBudget.limit, shared: readBudget.shared };
afterEach(() => {
  shareReadBudget(original.limit, original.shared);
});

describe('tails on the pipelined scan path', () => {
  it('count against the read budget while their probes run', async () => {
    const local = lake(24);
    const stats = { inFlight: 0, peak: 0, budgetPeak: 0 };
    const storage = remote(local, stats);
    const listed = await listSourceFiles(storage, parquetScanner, { format: 'parquet' }, false);
    const got = await scanFiles(storage, parquetScanner, ctx(), listed, undefined, hooks, 8);
    expect(got.files).toHaveLength(24);
    expect(stats.peak).toBe(8);
    // while the 8th tail is read, the 8 tails in flight hold their bytes
    expect(stats.budgetPeak).toBeGreaterThanOrEqual(8 * TAIL);
    expect(readBudget.inFlight).toBe(0);
  });

  it('wait for budget: a budget of three tails keeps three in flight whatever the concurrency', async () => {
    shareReadBudget(3 * TAIL, new SharedArrayBuffer(4));
    const local = lake(24);
    const stats = { inFlight: 0, peak: 0, budgetPeak: 0 };
    const storage = remote(local, stats);
    const listed = await listSourceFiles(storage, parquetScanner, { format: 'parquet' }, false);
    const got = await scanFiles(storage, parquetScanner, ctx(), listed, undefined, hooks, 8);
    expect(got.files).toHaveLength(24);
    expect(stats.peak).toBe(3);
    expect(stats.budgetPeak).toBeLessThanOrEqual(3 * TAIL);
    expect(readBudget.inFlight).toBe(0);
  });

  it('a footer read past the tail still proceeds when tails fill the budget (no lane waits on another for ever)', async () => {
    shareReadBudget(5 * TAIL, new SharedArrayBuffer(4)); // room for one footer, not for it and four tails
    const dir = tempDir();
    // footers of ~64 KiB: larger than the 16 KiB tail, so every probe reads again while holding its tail
    const schema = [{ name: 'schema', numChildren: 3000 }, ...Array.from({ length: 3000 }, (_, i) => ({ name: `c${i}`, type: T.I32, repetition: 1 }))];
    const footer = encodeFooter(footerForSchema(schema, 1));
    expect(footer.length).toBeGreaterThan(TAIL);
    for (let i = 0; i < 6; i++) writeSyntheticParquet(path.join(dir, `w${i}.parquet`), footer);
    const stats = { inFlight: 0, peak: 0, budgetPeak: 0 };
    const storage = remote(new LocalStorage(dir), stats);
    const listed = await listSourceFiles(storage, parquetScanner, { format: 'parquet' }, false);
    const got = await scanFiles(storage, parquetScanner, ctx(), listed, undefined, hooks, 4);
    expect(got.files).toHaveLength(6);
    expect(got.files.every((f) => f.rows === 1)).toBe(true);
    expect(readBudget.inFlight).toBe(0);
  }, 10_000); // a deadlock shows as a timeout
});
