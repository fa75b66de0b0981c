/**
 * Iceberg snapshot benchmark: synthesized tables of 1,000 data files in 50 manifests and 10,000 in 100
 * (written with the fixture writer through avsc, deflate codec, 1 position delete per 10 files), mapped
 * by the scanner alone, by a full engine refresh (new engine each run, durable commit included), and
 * read by the peer icebird (`icebergMetadata` + `icebergManifests`: the table metadata, manifest list
 * and every manifest, which is what a refresh reads). icebird fetches URLs; here its `fetch` is served
 * from the local files in-process (no HTTP, no network), its fastest configuration on this machine.
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

/** Table shapes measured: data files and the manifests holding them. */
const SHAPES = [
  { manifests: 50, filesPerManifest: 20 },
  { manifests: 100, filesPerManifest: 100 },
];

/** One table shape's figures (ms, best of 5 unless said). */
export interface IcebergBenchResult {
  dataFiles: number;
  manifests: number;
  snapshotMs: number;
  engineRefreshMs: number;
  engineRefreshFirstMs: number;
  fsyncs: number;
  fsyncMs: number;
  icebirdMs: number;
  icebirdFirstMs: number;
  /** icebird time / engine refresh time: above 1 means lakemap is faster. */
  engineVsIcebird: number;
  /** icebird time / scanner snapshot time (the same reads and decoding, without the engine's build and commit). */
  snapshotVsIcebird: number;
}

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
export async function icebergBench(log: (line: string) => void): Promise<IcebergBenchResult[]> {
  const results: IcebergBenchResult[] = [];
  for (const shape of SHAPES) results.push(await benchShape(shape.manifests, shape.filesPerManifest, log));
  return results;
}

async function benchShape(manifestCount: number, filesPerManifest: number, log: (line: string) => void): Promise<IcebergBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-bench-'));
  try {
    const manifests: FixtureFile[][] = [];
    for (let m = 0; m < manifestCount; m++) {
      const files: FixtureFile[] = [];
      for (let i = 0; i < filesPerManifest; i++) {
        const day = 19000 + m;
        files.push({ path: `data/day=${day}/f${i}.parquet`, records: 1000 + i, size: 1_000, partition: { day }, nullCounts: { 1: 0, 2: i } });
      }
      manifests.push(files);
    }
    manifests.push(Array.from({ length: (manifestCount * filesPerManifest) / 10 }, (_, k) => {
      const day = 19000 + (k % manifestCount);
      return { path: `data/day=${day}/pos-${k}.parquet`, records: 3, content: 1 as const, partition: { day }, referencedDataFile: `data/day=${day}/f${Math.floor(k / manifestCount) % filesPerManifest}.parquet` };
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
    const snapshotMs = Math.min(...times);
    log(`iceberg snapshot: ${files} data files / ${manifestCount + 1} manifests in ${snapshotMs.toFixed(1)} ms best, ${times[0]!.toFixed(1)} ms first (${Math.round(files / (snapshotMs / 1000))} files/s)`);
    const engine = await engineRefresh(dir, log);
    const icebird = await icebirdRead(dir, files, log);
    const engineVsIcebird = icebird.best / engine.best;
    const snapshotVsIcebird = icebird.best / snapshotMs;
    log(
      `iceberg ${files} files: engine refresh ${engine.best.toFixed(1)} ms vs icebird ${icebird.best.toFixed(1)} ms: lakemap ${engineVsIcebird.toFixed(2)}× icebird's speed ` +
        `(snapshot alone ${snapshotVsIcebird.toFixed(2)}×)`,
    );
    return {
      dataFiles: files,
      manifests: manifestCount + 1,
      snapshotMs,
      engineRefreshMs: engine.best,
      engineRefreshFirstMs: engine.first,
      fsyncs: engine.fsyncs,
      fsyncMs: engine.fsyncMs,
      icebirdMs: icebird.best,
      icebirdFirstMs: icebird.first,
      engineVsIcebird,
      snapshotVsIcebird,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * icebird reading the table's metadata, manifest list and manifests (best of 5). Its URLs (`s3://warehouse/db/t/…`,
 * which it turns into `https://warehouse.s3.amazonaws.com/db/t/…`) are answered from `dir` by an in-process fetch.
 */
async function icebirdRead(dir: string, dataFiles: number, log: (line: string) => void): Promise<{ best: number; first: number }> {
  const { icebergMetadata, icebergManifests } = await import('icebird');
  const realFetch = globalThis.fetch;
  const prefix = 'https://warehouse.s3.amazonaws.com/db/t/';
  globalThis.fetch = (async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(prefix)) return new Response(null, { status: 404 });
    try {
      return new Response(await fs.promises.readFile(path.join(dir, url.slice(prefix.length))));
    } catch {
      return new Response(null, { status: 404 });
    }
  }) as typeof fetch;
  try {
    const times: number[] = [];
    for (let pass = 0; pass < 5; pass++) {
      const t0 = performance.now();
      const metadata = await icebergMetadata({ tableUrl: 's3://warehouse/db/t' });
      const list = await icebergManifests(metadata);
      times.push(performance.now() - t0);
      const seen = list.reduce((n, m) => n + m.entries.filter((e) => e.data_file.content === 0).length, 0);
      if (seen !== dataFiles) throw new Error(`icebird saw ${seen} data files, lakemap ${dataFiles}`);
    }
    const best = Math.min(...times);
    log(`icebird metadata + manifests: ${dataFiles} data files in ${best.toFixed(1)} ms best, ${times[0]!.toFixed(1)} ms first (fetch served from local files)`);
    return { best, first: times[0]! };
  } finally {
    globalThis.fetch = realFetch;
  }
}

/** Full refreshes through the engine (best of 5, a new engine and root each), timing the commit's fsyncs. */
async function engineRefresh(dir: string, log: (line: string) => void): Promise<{ best: number; first: number; fsyncs: number; fsyncMs: number }> {
  const engineModule = await import('../src/engine/engine.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-bench-root-'));
  // fsync is where a durable commit spends its time: count them, and time those on the engine's thread
  // (a commit flushes its files together on the thread pool with fs.fsync: counted, not timed, as they overlap).
  const realFsync = fs.fsyncSync;
  const realAsyncFsync = fs.fsync;
  let fsyncs = 0;
  let fsyncMs = 0;
  fsDefault.fsyncSync = (fd) => {
    const t = performance.now();
    realFsync(fd);
    fsyncMs += performance.now() - t;
    fsyncs++;
  };
  fsDefault.fsync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    fsyncs++;
    realAsyncFsync(fd, cb);
  }) as typeof fs.fsync;
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
      if (info.state !== 'RefreshCompleted') throw new Error(`iceberg engine refresh ended ${state}`);
    }
    log(
      `iceberg engine refresh: ${state} in ${Math.min(...times).toFixed(1)} ms best, ${times[0]!.toFixed(1)} ms first (new engine each); ` +
        `${fsyncs} fsyncs in the last run (${fsyncMs.toFixed(1)} ms of them on the engine's thread)`,
    );
    return { best: Math.min(...times), first: times[0]!, fsyncs, fsyncMs };
  } finally {
    fsDefault.fsyncSync = realFsync;
    fsDefault.fsync = realAsyncFsync;
    syncBuiltinESMExports();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
