/**
 * The stats of a local listing, taken after the names (for the selected files only) and shared with
 * a probe worker on large listings: a no-change refresh is mostly these stats.
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileStat } from '../scanner.js';
import type { ProbeWorkers, StatJob } from './file-scan.js';
import { LIST_YIELD_MS, yieldToEventLoop } from './listing.js';

/** Stat batches: the event loop turns between two (worker results arrive, cancellation is seen). */
const STAT_BATCH = 256;
/** Listings below which a worker is not asked to stat (posting the paths costs more than it saves). */
const STAT_WORKER_MIN = 4096;

/**
 * Fills in the size and mtime of each listed file, stat'ing on this thread and, for large listings
 * with a worker free, in the worker too: both claim batches from one shared counter, so this thread
 * never waits for a worker that is slow to start. A file the worker could not stat is stat'ed again
 * here, so errors are this thread's.
 */
export async function statListed(storage: ScanStorage & Required<Pick<ScanStorage, 'statListedSync'>>, files: FileStat[], workers: ProbeWorkers | undefined, signal?: AbortSignal): Promise<void> {
  const counter = new SharedArrayBuffer(4);
  const next = new Int32Array(counter);
  let started: { done: Promise<void>; stop(): void } | undefined;
  let left = files.length; // files whose stats have not come in
  let allIn = (): void => {};
  const whenAllIn = new Promise<true>((resolve) => (allIn = () => resolve(true)));
  if (workers && files.length >= STAT_WORKER_MIN) {
    const job: StatJob = { stat: true, root: storage.root, paths: files.map((f) => f.path), counter, batch: STAT_BATCH };
    started = workers.start(job, (b) => {
      const v = b.values;
      for (let i = 0, k = b.start; i < v.length; i += 2, k++) {
        const f = files[k]!;
        if (!Number.isNaN(v[i]!)) {
          f.size = v[i]!;
          f.mtimeMs = v[i + 1]!;
        } // else left at -1: stat'ed again here
      }
      if ((left -= v.length / 2) <= 0) allIn();
    });
  }
  let ok = false;
  try {
    let last = performance.now();
    for (;;) {
      const start = Atomics.add(next, 0, STAT_BATCH);
      if (start >= files.length) break;
      const end = Math.min(files.length, start + STAT_BATCH);
      for (let k = start; k < end; k++) {
        const f = files[k]!;
        const st = storage.statListedSync(f.path);
        f.size = st.size;
        f.mtimeMs = st.mtimeMs;
      }
      left -= end - start;
      if (started || performance.now() - last >= LIST_YIELD_MS) {
        await yieldToEventLoop();
        if (signal?.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled while listing');
        last = performance.now();
      }
    }
    // The worker's batches in flight (not its start-up, when it never claimed any); a failed worker
    // or a file it could not stat leaves sizes at -1, stat'ed here.
    if (started && left > 0) await Promise.race([started.done.then(() => true, () => true), whenAllIn]);
    for (const f of files) {
      if (f.size >= 0) continue;
      const st = storage.statListedSync(f.path);
      f.size = st.size;
      f.mtimeMs = st.mtimeMs;
    }
    ok = true;
  } finally {
    // A worker that has not ended yet returns to the pool when it does (it has nothing left to claim).
    if (started) {
      const s = started;
      if (ok) void s.done.then(s.stop, s.stop);
      else s.stop();
    }
  }
}

