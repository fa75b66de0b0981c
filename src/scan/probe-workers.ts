import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LakemapError } from '../errors.js';
import type { ProbeWorkers, WorkerBatch, WorkerJob } from './file-scan.js';

const ENTRY = new URL('./probe-worker.js', import.meta.url);

function defaultCount(): number {
  const cores = availableParallelism();
  return cores >= 4 ? Math.min(cores - 1, 3) : 0;
}

/**
 * Probe worker threads of one engine, beside the engine's own thread. By default one less than the
 * cores (at most 3) on machines with 4 or more cores, and none on 2: there, measured, a fresh
 * engine's first refresh lost more to starting a worker (~60 ms) than the worker saved, and a warm
 * one gained ~20%. They start on first use, load each scanner once, and keep the process alive only
 * while they work. Undefined when the engine runs from TypeScript sources (a worker cannot load them).
 */
export function probeWorkers(count = defaultCount()): ProbeWorkers | undefined {
  if (count < 1 || !ENTRY.pathname.endsWith('.js')) return undefined;
  const pool: Worker[] = [];
  const busy = new Set<Worker>();
  const idle = (): Worker => {
    const free = pool.find((w) => !busy.has(w));
    if (free) return free;
    // --input-type (from `node --input-type=module -e …`) would make the worker refuse its file entry
    const w = new Worker(ENTRY, { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    w.unref();
    pool.push(w);
    return w;
  };
  return {
    count,
    warm(module) {
      while (pool.length < count) idle().postMessage({ warm: module });
      for (const w of pool) w.postMessage({ warm: module });
    },
    start(job: WorkerJob, onBatch: (batch: WorkerBatch) => void) {
      const worker = idle();
      busy.add(worker);
      worker.ref(); // while it works for a refresh, the process must wait for it
      let cleanup = (): void => {};
      let finished = false;
      const done = new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerBatch | 'end'): void => {
          if (m !== 'end') return onBatch(m);
          finished = true;
          resolve();
        };
        const onError = (e: Error): void => reject(new LakemapError('SCANNER_ERROR', `probe worker failed: ${e.message}`, { cause: e }));
        const onExit = (code: number): void => reject(new LakemapError('SCANNER_ERROR', `probe worker exited with code ${code}`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        cleanup = () => void worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      });
      worker.postMessage(job);
      return {
        done,
        stop: () => {
          cleanup();
          busy.delete(worker);
          worker.unref();
          void done.catch(() => undefined);
          if (!finished) {
            // it did not finish its job (cancelled or failed): replace it rather than reuse it
            pool.splice(pool.indexOf(worker), 1);
            void worker.terminate();
          }
        },
      };
    },
  };
}
