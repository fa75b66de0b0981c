/**
 * Iceberg snapshot benchmark: a synthesized table of 1,000 (1 KB placeholder) data files across 50 manifests (written with
 * the fixture writer through avsc, deflate codec, 1 position delete per 10 files), mapped by the scanner
 * alone and, when the engine is present, by a full refresh.
 *
 * @module
 */
import * as fs from 'node:fs';
import fsDefault from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalStorage } from '../src/storage/local.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { writeFixtureTable, type FixtureFile } from '../fixtures/iceberg/table-writer.js';
import { schemaV0 } from '../fixtures/iceberg/sample-tables.js';

const MANIFESTS = 50;
const FILES_PER_MANIFEST = 20;

/**
 * Writes the table into a temp dir, times `icebergScanner.snapshot` (5 passes) and an engine refresh,
 * and logs files/s and ms.
 *
 * @example
 * ```ts
 * await icebergBench(console.log);
 * // iceberg snapshot: 1000 data files / 50 manifests in 21.3 ms (47k files/s)
 * ```
 */
export async function icebergBench(log: (line: string) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-bench-'));
  try {
    const manifests: FixtureFile[][] = [];
    for (let m = 0; m < MANIFESTS; m++) {
      const files: FixtureFile[] = [];
      for (let i = 0; i < FILES_PER_MANIFEST; i++) {
        const day = 19000 + m;
        files.push({ path: `data/day=${day}/f${i}.parquet`, records: 1000 + i, size: 1_000, partition: { day }, nullCounts: { 1: 0, 2: i } });
      }
      manifests.push(files);
    }
    manifests.push(Array.from({ length: MANIFESTS * 2 }, (_, k) => {
      const day = 19000 + Math.floor(k / 2);
      return { path: `data/day=${day}/pos-${k}.parquet`, records: 3, content: 1 as const, partition: { day }, referencedDataFile: `data/day=${day}/f${(k % 2) * 10}.parquet` };
    }));
    writeFixtureTable(dir, {
      schemas: [schemaV0],
      partitionFields: [{ name: 'day', fieldId: 1000, avroType: ['null', 'int'], sourceId: 3, transform: 'identity' }],
      snapshots: [{ id: 1n, timestampMs: 1, sequenceNumber: 1n, manifests }],
    });
    const storage = new LocalStorage(dir);
    const ctx = { spec: { format: 'iceberg-table' }, signal: new AbortController().signal, progress: () => {} };
    const times: number[] = [];
    let files = 0;
    for (let pass = 0; pass < 5; pass++) {
      const t0 = performance.now();
      const snap = await icebergScanner.snapshot(storage, ctx);
      times.push(performance.now() - t0);
      files = snap.entries.length;
    }
    const best = Math.min(...times);
    log(`iceberg snapshot: ${files} data files / ${MANIFESTS + 1} manifests in ${best.toFixed(1)} ms best, ${times[0]!.toFixed(1)} ms first (${Math.round(files / (best / 1000))} files/s)`);
    await engineRefresh(dir, log);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One refresh through the engine, if it can be loaded (it is written concurrently with this bench). */
async function engineRefresh(dir: string, log: (line: string) => void): Promise<void> {
  let engineModule: typeof import('../src/engine/engine.js');
  try {
    engineModule = await import('../src/engine/engine.js');
  } catch (e) {
    log(`iceberg engine refresh: skipped (${(e as Error).message})`);
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-bench-root-'));
  // fsync is where a durable commit spends its time: count and time it during the refreshes.
  const realFsync = fs.fsyncSync;
  let fsyncs = 0;
  let fsyncMs = 0;
  fsDefault.fsyncSync = (fd) => {
    const t = performance.now();
    realFsync(fd);
    fsyncMs += performance.now() - t;
    fsyncs++;
  };
  syncBuiltinESMExports(); // so `import * as fs` users (the store) see the wrapper
  try {
    const times: number[] = [];
    let state = '';
    for (let run = 0; run < 5; run++) {
      const engine = new engineModule.RefreshEngine({ root: path.join(root, String(run)) });
      await engine.createCollection({ collectionName: 'bench_iceberg', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
      fsyncs = 0;
      fsyncMs = 0;
      const t0 = performance.now();
      const { jobId } = await engine.refreshExternalCollection({ collectionName: 'bench_iceberg' });
      const info = await engine.waitForRefresh(jobId);
      times.push(performance.now() - t0);
      state = info.state === 'RefreshCompleted' ? info.state : `${info.state} (${String((info as { reason?: string }).reason)})`;
    }
    log(
      `iceberg engine refresh: ${state} in ${Math.min(...times).toFixed(1)} ms best, ${times[0]!.toFixed(1)} ms first (new engine each); ` +
        `of which ${fsyncs} fsyncs took ${fsyncMs.toFixed(1)} ms in the last run`,
    );
  } finally {
    fsDefault.fsyncSync = realFsync;
    syncBuiltinESMExports();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
