// The pipelined scan path for storages without synchronous reads (what S3/Azure storages get): same
// entries as the local fast path, at most `concurrency` probes in flight, readTail used when offered,
// cancellation through the job signal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.js';
import { listSourceFiles, scanFiles } from '../src/scan/file-scan.js';
import type { ScanStorage } from '../src/storage/scan-storage.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir } from './helpers/tmp.js';

function lake(n: number): string {
  const dir = tempDir();
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `d${i % 3}`, `f${i}.parquet`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // pageBytes pushes some footers out of the 16 KiB tail, so those probes read again
    writeSyntheticParquet(file, encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], i + 1)), { pageBytes: i % 2 ? 20_000 : 64 });
  }
  return dir;
}

/** Only the public, asynchronous SourceStorage members, each answering after a little latency. */
function remoteLike(local: LocalStorage, stats: { inFlight: number; peak: number; tails: number }, withReadTail: boolean): ScanStorage {
  const slow = async <T>(fn: () => Promise<T>): Promise<T> => {
    stats.inFlight++;
    stats.peak = Math.max(stats.peak, stats.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      return await fn();
    } finally {
      stats.inFlight--;
    }
  };
  const s: ScanStorage = {
    root: local.root,
    stat: (p) => slow(() => local.stat(p)),
    read: (p, o, l) => slow(() => local.read(p, o, l)),
    readFile: (p, m) => slow(() => local.readFile(p, m)),
    list: (d) => slow(() => local.list(d)),
  };
  if (withReadTail) {
    s.readTail = (p, want) =>
      slow(async () => {
        stats.tails++;
        return local.readTailSync(p, want);
      });
  }
  return s;
}

const hooks = { progress: () => {}, skipped: () => {} };

describe('pipelined scan of an async storage', () => {
  const dir = lake(40);
  const local = new LocalStorage(dir);
  const ctx = () => ({ spec: { format: 'parquet' }, signal: new AbortController().signal });

  for (const withReadTail of [false, true]) {
    it(`maps the same entries as the local path, within the concurrency (${withReadTail ? 'readTail' : 'stat + read'})`, async () => {
      const listedLocal = await listSourceFiles(local, parquetScanner, { format: 'parquet' }, false);
      const expected = await scanFiles(local, parquetScanner, ctx(), listedLocal, undefined, hooks, 64);
      const stats = { inFlight: 0, peak: 0, tails: 0 };
      const remote = remoteLike(local, stats, withReadTail);
      const listed = await listSourceFiles(remote, parquetScanner, { format: 'parquet' }, false);
      expect(listed.map((f) => f.path)).toEqual(listedLocal.map((f) => f.path));
      const got = await scanFiles(remote, parquetScanner, ctx(), listed, undefined, hooks, 5);
      expect(got.files).toEqual(expected.files);
      expect(got.fileSchemas).toEqual(expected.fileSchemas);
      expect(stats.peak).toBeGreaterThan(1);
      expect(stats.peak).toBeLessThanOrEqual(5);
      expect(stats.tails).toBe(withReadTail ? 40 : 0);
    });
  }

  it('stops on the job signal with CANCELLED, leaving nothing in flight', async () => {
    const stats = { inFlight: 0, peak: 0, tails: 0 };
    const remote = remoteLike(local, stats, false);
    const listed = await listSourceFiles(remote, parquetScanner, { format: 'parquet' }, false);
    const ac = new AbortController();
    let probed = 0;
    const run = scanFiles(remote, parquetScanner, { spec: { format: 'parquet' }, signal: ac.signal }, listed, undefined, {
      progress: (done) => {
        probed = done;
      },
      skipped: () => {},
    }, 2);
    setTimeout(() => ac.abort(), 15);
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(stats.inFlight).toBe(0);
    expect(probed).toBeLessThan(40);
  });
});
