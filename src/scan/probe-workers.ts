import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LakemapError } from '../errors.js';
import type { ProbeWorkers, StatBatch, StatJob, WorkerBatch, WorkerJob } from './file-scan.js';

const ENTRY = new URL('./probe-worker.js', import.meta.url);

function defaultCount(): number {
  const cores = availableParallelism();
  return cores >= 4 ? Math.min(cores - 1, 3) : 0;
}

/**
 * Probe worker threads of one engine, beside the engine's own thread: by default one less than the
 * cores (at most 3) with 4 or more cores, none on fewer. On 2 cores one worker did not pay off in
 * the interleaved A/B runs of issue #10 (a machine loaded far beyond its cores: 10k-file full
 * refreshes were slower with it; measured again at load 12-18, 7 runs each, a worker cost 35% more
 * CPU at 10k files and was slower in wall time at 10k and 100k); `workers: 1` turns it on. A split scanner's worker loads only its
 * decoder, not Apache Arrow, so it starts several times faster than one that loads the scanner; the
 * engine's thread never waits for one to start (both claim work from one counter). They start on
 * first use (or when a refresh is about to need them), load each scanner once, take a share of
 * large local listings' stats too, and keep the process alive only while they work. Undefined when
 * the engine runs from TypeScript sources (a worker cannot load them).
 *
 * Not a generic task pool: the threads claim batches from a counter they share with the engine's
 * thread and stream results back, so a small fixed set of long-lived threads is all it takes.
 */
export function probeWorkers(count = defaultCount()): ProbeWorkers | undefined {
  if (count < 1 || !ENTRY.pathname.endsWith('.js')) return undefined;
  const pool: Worker[] = [];
  const busy = new Set<Worker>();
  let closed = false;
  const spawn = (): Worker => {
    // --input-type (from `node --input-type=module -e …`) would make the worker refuse its file entry
    const w = new Worker(ENTRY, { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    w.unref();
    // A worker that dies while idle leaves the pool; one that dies at work fails its job (see start).
    w.on('error', () => undefined).once('exit', () => {
      const i = pool.indexOf(w);
      if (i >= 0) pool.splice(i, 1);
      busy.delete(w);
    });
    pool.push(w);
    return w;
  };
  /** A free worker, started if the pool is not full; undefined when all `count` are busy. */
  const free = (): Worker | undefined => {
    if (closed) return undefined;
    return pool.find((w) => !busy.has(w)) ?? (pool.length < count ? spawn() : undefined);
  };
  return {
    count,
    warm(module, lean) {
      if (closed) return;
      while (pool.length < count) spawn();
      for (const w of pool) w.postMessage({ warm: module, lean });
    },
    // The batch type follows the job's kind (see the overloads of ProbeWorkers.start).
    start(job: WorkerJob | StatJob, onBatch: (batch: never) => void) {
      const deliver = onBatch as (batch: WorkerBatch | StatBatch) => void;
      const worker = free();
      if (!worker) return undefined; // all busy with another refresh: the caller probes with fewer threads
      busy.add(worker);
      worker.ref(); // while it works for a refresh, the process must wait for it
      let cleanup = (): void => {};
      let finished = false;
      const done = new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerBatch | StatBatch | 'end'): void => {
          if (m !== 'end') return deliver(m);
          finished = true;
          resolve();
        };
        const onError = (e: Error): void => reject(new LakemapError('SCANNER_ERROR', `probe worker failed: ${e.message}`, { cause: e }));
        const onExit = (code: number): void => reject(new LakemapError('SCANNER_ERROR', `probe worker exited with code ${code}`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        cleanup = () => void worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      });
      done.catch(() => undefined); // the caller awaits it, or stops early: never an unhandled rejection
      worker.postMessage(job);
      return {
        done,
        stop: () => {
          cleanup();
          busy.delete(worker);
          if (!closed) worker.unref(); // close() keeps it referenced until it has exited
          if (!finished) {
            // it did not finish its job (cancelled or failed): replace it rather than reuse it
            const i = pool.indexOf(worker);
            if (i >= 0) pool.splice(i, 1);
            void worker.terminate();
          }
        },
      };
    },
    async close() {
      closed = true;
      const all = pool.splice(0);
      busy.clear();
      // The event loop is kept alive until every thread is gone: a worker unreferenced meanwhile (a
      // job's stop() runs when the exit fails its job) would let it drain, and a caller awaiting
      // close() would see its process end mid-await (exit code 13).
      const keep = setInterval(() => undefined, 1000);
      try {
        await Promise.all(all.map((w) => (w.ref(), w.terminate())));
      } finally {
        clearInterval(keep);
      }
    },
  };
}
