// Entry of a probe worker thread. It lives as long as its engine: for each job it imports the scanner
// by module URL (once), claims batches of files from the counter it shares with the engine's thread,
// and posts each batch's manifest entries back, then 'end'.
import { parentPort } from 'node:worker_threads';
import { Prober, type ProbeOutcome, type WorkerBatch, type WorkerJob } from './file-scan.js';
import { isPromise } from './prober.js';
import { shareReadBudget } from './budget.js';
import { LocalStorage } from '../storage/local.js';
import type { FileScanner } from '../scanner.js';

const scanners = new Map<string, Promise<FileScanner | undefined>>();

function load(job: Pick<WorkerJob, 'module'>): Promise<FileScanner | undefined> {
  const key = `${job.module.url}#${job.module.exportName}`;
  let p = scanners.get(key);
  if (!p) {
    p = import(job.module.url).then(
      (m) => (typeof m[job.module.exportName]?.probe === 'function' ? (m[job.module.exportName] as FileScanner) : undefined),
      () => undefined, // cannot load it here: claim nothing, the engine's thread probes every file
    );
    scanners.set(key, p);
  }
  return p;
}

async function run(job: WorkerJob): Promise<void> {
  const scanner = await load(job);
  if (!scanner) return;
  shareReadBudget(job.budget.limit, job.budget.shared);
  const prober = new Prober(new LocalStorage(job.root), scanner, { spec: job.spec, signal: new AbortController().signal });
  const next = new Int32Array(job.counter);
  let schemasSent = 0;
  for (;;) {
    const start = Atomics.add(next, 0, job.batch);
    if (start >= job.paths.length) return;
    const end = Math.min(job.paths.length, start + job.batch);
    const outcomes: WorkerBatch['outcomes'] = [];
    for (let k = start; k < end; k++) {
      const probed = prober.probe(job.paths[k]!);
      const o: ProbeOutcome = isPromise(probed) ? await probed : probed; // no microtask turn per synchronous probe
      outcomes.push(o.ok ? o : { ok: false, code: o.error.code, message: o.error.message });
    }
    const stored = prober.schemas.stored;
    const batch: WorkerBatch = { start, outcomes, newSchemas: stored.slice(schemasSent) };
    schemasSent = stored.length;
    parentPort!.postMessage(batch);
  }
}

parentPort!.on('message', (job: WorkerJob | { warm: WorkerJob['module'] }) => {
  if ('warm' in job) {
    void load({ module: job.warm });
    return;
  }
  run(job).then(
    () => parentPort!.postMessage('end'),
    // Prober never rejects; anything else is a bug of this thread: end the job so the engine fails it loudly.
    (e: unknown) => {
      throw e;
    },
  );
});
