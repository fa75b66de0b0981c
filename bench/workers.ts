/**
 * Do probe worker threads pay for themselves on this machine? Full refreshes of the same lake with
 * `workers: 0` and `workers: 1..cores-1`, in a fresh engine (worker start-up included) and in a warm
 * one (workers already started by an earlier refresh), at growing lake sizes: the break-even is the
 * smallest lake where workers win.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

/** Milliseconds of a full refresh per worker count. */
export interface WorkersBenchRow {
  files: number;
  workers: number;
  /** New engine: includes starting the worker threads. */
  freshMs: number;
  /** Engine whose workers are already running. */
  warmMs: number;
}

async function fullRefresh(engine: RefreshEngine, name: string, dir: string): Promise<number> {
  await engine.createCollection({ collectionName: name, externalSource: dir, externalSpec: { format: 'parquet' } });
  const t0 = performance.now();
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: name })).jobId);
  if (info.state !== 'RefreshCompleted') throw new Error(info.reason);
  return performance.now() - t0;
}

/**
 * Measures each lake size in `sizes` with 0 and 1..(cores − 1, at least 1) workers; best of 3.
 *
 * @example
 * ```ts
 * await workersBench([1000, 10000], console.log);
 * ```
 */
export async function workersBench(sizes: number[], log: (line: string) => void): Promise<WorkersBenchRow[]> {
  const rows: WorkersBenchRow[] = [];
  const counts = [0, ...Array.from({ length: Math.max(1, os.availableParallelism() - 1) }, (_, i) => i + 1)];
  log('| files | workers | fresh engine ms | warm engine ms |');
  log('|---:|---:|---:|---:|');
  for (const files of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-workers-'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-workers-root-'));
    try {
      await writeManyParquetFiles(dir, files);
      let k = 0;
      for (const workers of counts) {
        let freshMs = Infinity;
        let warmMs = Infinity;
        for (let run = 0; run < 3; run++) {
          const engine = new RefreshEngine({ root: path.join(root, String(k++)), workers });
          freshMs = Math.min(freshMs, await fullRefresh(engine, 'a', dir));
          warmMs = Math.min(warmMs, await fullRefresh(engine, 'b', dir));
        }
        rows.push({ files, workers, freshMs, warmMs });
        log(`| ${files} | ${workers} | ${freshMs.toFixed(0)} | ${warmMs.toFixed(0)} |`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  return rows;
}
