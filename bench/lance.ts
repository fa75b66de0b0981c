/**
 * Lance benchmark: a dataset of ~1,000 fragments written by lancedb, then, in the same run, our
 * `lanceScanner.snapshot`, a first engine refresh and a no-change refresh (same dataset version)
 * against lancedb opening the table and counting its rows (the cheapest way lancedb gives the same figure).
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as lancedb from '@lancedb/lancedb';
import { RefreshEngine } from '../src/engine/engine.js';
import { LocalStorage } from '../src/storage/local.js';
import { lanceScanner } from '../scanners/lance/index.js';
import { writeManyFragmentsTable } from '../fixtures/lance/lancedb-tables.js';

/** What {@link lanceBench} measured, in milliseconds (medians). */
export interface LanceBenchResult {
  /** Fragments in the dataset. */
  fragments: number;
  /** Live rows (ours; equal to lancedb's count, checked). */
  rows: number;
  /** Seconds lancedb took to write the dataset (one `add` per fragment). */
  writeSeconds: number;
  /** `lanceScanner.snapshot` alone. */
  snapshotMs: number;
  /** A first engine refresh (snapshot, segments, manifest commit), with the engine's creation and `createCollection` before it. */
  engineRefreshMs: number;
  /** The same first refresh alone, timed from `refreshExternalCollection` as the iceberg bench times it (median). */
  engineRefreshOnlyMs: number;
  /** lancedb `connect` + `openTable` + `countRows`. */
  lancedbCountMs: number;
  /** Best snapshot run. */
  snapshotBestMs: number;
  /** Best lancedb run. */
  lancedbBestMs: number;
  /** A refresh finding the same dataset version, by the engine that committed it (holding the manifest). */
  noChangeMs: number;
  /** The same from a new engine each time, as the CLI runs it (reads the stored version first). */
  noChangeFreshMs: number;
}

/**
 * Builds the dataset in a temporary directory (removed afterwards), times both sides and logs them.
 *
 * @example
 * ```ts
 * await lanceBench(console.log);
 * // lance: 1000 fragments, 10000 rows; snapshot 9.1 ms, engine refresh 30.2 ms; lancedb open+countRows 25.3 ms (2.8x)
 * ```
 */
export async function lanceBench(log: (line: string) => void, fragments = 1000): Promise<LanceBenchResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-bench-'));
  try {
    let t0 = performance.now();
    const { datasetDir } = await writeManyFragmentsTable(path.join(tmp, 'lake'), fragments);
    const writeSeconds = (performance.now() - t0) / 1000;

    const storage = new LocalStorage(datasetDir);
    const ctx = { spec: { format: 'lance-table' }, signal: new AbortController().signal, progress: () => {} };
    let rows = 0;
    let snapshotBestMs = 0;
    const snapshotMs = await medianMs(7, async () => {
      const snap = await lanceScanner.snapshot(storage, ctx);
      rows = snap.entries.reduce((n, e) => n + (e.liveRows ?? e.rows), 0);
    });

    snapshotBestMs = lastBest;
    let n = 0;
    const refreshOnly: number[] = [];
    const engineRefreshMs = await medianMs(5, async () => {
      const engine = new RefreshEngine({ root: path.join(tmp, `engine-${n++}`), scanners: [lanceScanner] });
      await engine.createCollection({ collectionName: 'bench', externalSource: datasetDir, externalSpec: { format: 'lance-table' } });
      const t0 = performance.now();
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'bench' })).jobId);
      refreshOnly.push(performance.now() - t0);
      if (info.state !== 'RefreshCompleted') throw new Error(`refresh failed: ${info.reason}`);
    });
    const engineRefreshOnlyMs = refreshOnly.slice(1).sort((a, b) => a - b)[2]!; // the 5 timed runs, without the warm-up

    // The refresh a demanding user runs most: nothing new in the dataset.
    const root = path.join(tmp, 'engine-nochange');
    const held = new RefreshEngine({ root, scanners: [lanceScanner] });
    await held.createCollection({ collectionName: 'bench', externalSource: datasetDir, externalSpec: { format: 'lance-table' } });
    await refreshOnce(held, true);
    const noChangeMs = await medianMs(7, () => refreshOnce(held, false));
    const noChangeFreshMs = await medianMs(7, async () => {
      const engine = new RefreshEngine({ root, scanners: [lanceScanner] });
      await refreshOnce(engine, false);
      await engine.close();
    });
    await held.close();

    let lancedbRows = 0;
    const lancedbCountMs = await medianMs(7, async () => {
      const db = await lancedb.connect(path.dirname(datasetDir));
      const table = await db.openTable(path.basename(datasetDir, '.lance'));
      lancedbRows = await table.countRows();
      table.close();
      db.close();
    });
    const lancedbBestMs = lastBest;
    if (lancedbRows !== rows) throw new Error(`row counts disagree: lakemap ${rows}, lancedb ${lancedbRows}`);

    log(`lance: ${fragments} fragments, ${rows} rows (written by lancedb in ${writeSeconds.toFixed(1)} s, one add per fragment)`);
    log(`lance: lakemap snapshot ${snapshotMs.toFixed(1)} ms, engine refresh ${engineRefreshMs.toFixed(1)} ms with createCollection, ${engineRefreshOnlyMs.toFixed(1)} ms alone`);
    log(
      `lance: lancedb open+countRows ${lancedbCountMs.toFixed(1)} ms; snapshot is ${ratio(lancedbCountMs, snapshotMs)}, ` +
        `engine refresh ${ratio(lancedbCountMs, engineRefreshMs)} (alone ${ratio(lancedbCountMs, engineRefreshOnlyMs)}) relative to lancedb (medians)`,
    );
    log(`lance: best runs: snapshot ${snapshotBestMs.toFixed(1)} ms, lancedb ${lancedbBestMs.toFixed(1)} ms (${ratio(lancedbBestMs, snapshotBestMs)})`);
    log(
      `lance: no-change refresh ${noChangeMs.toFixed(1)} ms (${ratio(lancedbCountMs, noChangeMs)}), from a new engine ` +
        `${noChangeFreshMs.toFixed(1)} ms (${ratio(lancedbCountMs, noChangeFreshMs)}) relative to lancedb open+countRows (medians)`,
    );
    return { fragments, rows, writeSeconds, snapshotMs, engineRefreshMs, engineRefreshOnlyMs, lancedbCountMs, snapshotBestMs, lancedbBestMs, noChangeMs, noChangeFreshMs };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** One refresh of the bench collection; `commits` says whether it must commit a version or must not. */
async function refreshOnce(engine: RefreshEngine, commits: boolean): Promise<void> {
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'bench' })).jobId);
  if (info.state !== 'RefreshCompleted') throw new Error(`refresh failed: ${info.reason}`);
  if (info.committed !== commits) throw new Error(`refresh ${commits ? 'committed nothing' : 'committed a version'} on ${commits ? 'a first refresh' : 'an unchanged dataset'}`);
}

/** Best run of the last {@link medianMs} call (on a loaded machine the best is the steadier figure). */
let lastBest = 0;

async function medianMs(runs: number, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up: page cache, JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  lastBest = times[0]!;
  return times[Math.floor(times.length / 2)]!;
}

/** `2.8x faster` / `1.3x slower`. */
function ratio(theirs: number, ours: number): string {
  return ours <= theirs ? `${(theirs / ours).toFixed(1)}x faster` : `${(ours / theirs).toFixed(1)}x slower`;
}
