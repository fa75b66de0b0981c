// Entry of a probe worker thread. It lives as long as its engine: for each job it imports the module
// it names (once), claims batches of files from the counter it shares with the engine's thread, and
// posts each batch back, then 'end'. A split scanner's decoder (the lean path) returns plain data the
// engine's thread finishes; nothing on that path loads Apache Arrow, which would cost most of the
// thread's start-up. A scanner with only `workerModule` is probed whole (that path loads the prober).
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ProbeOutcome } from './prober.js';
import type { StatBatch, StatJob, WorkerBatch, WorkerJob } from './file-scan.js';
import { LeanProber, type DecodeOutcome } from './probe-lean.js';
import { isPromise } from './probe-util.js';
import { shareReadBudget } from './budget.js';
import { LocalStorage } from '../storage/local.js';
import type { FileDecoder, FileScanner } from '../scanner.js';

const modules = new Map<string, Promise<FileScanner | FileDecoder | undefined>>();

function load(module: WorkerJob['module'], lean: boolean): Promise<FileScanner | FileDecoder | undefined> {
  const key = `${module.url}#${module.exportName}`;
  let p = modules.get(key);
  if (!p) {
    p = import(module.url).then(
      (m) => {
        const v = m[module.exportName];
        return typeof (lean ? v?.decode : v?.probe) === 'function' ? v : undefined;
      },
      () => undefined, // cannot load it here: claim nothing, the engine's thread probes every file
    );
    modules.set(key, p);
  }
  return p;
}

async function run(job: WorkerJob): Promise<void> {
  const loaded = await load(job.module, job.lean === true);
  if (!loaded) return;
  shareReadBudget(job.budget.limit, job.budget.shared);
  const storage = new LocalStorage(job.root);
  const ctx = { spec: job.spec, signal: new AbortController().signal };
  let probe: (path: string) => WorkerBatch['outcomes'][number] | Promise<WorkerBatch['outcomes'][number]>;
  let newSchemas: () => WorkerBatch['newSchemas'] = () => [];
  if (job.lean) {
    const prober = new LeanProber(storage, loaded as FileDecoder, job.format, job.tailBytes, ctx);
    const post = (o: DecodeOutcome): WorkerBatch['outcomes'][number] => (o.ok ? { ok: true, decoded: o.value } : { ok: false, code: o.error.code, message: o.error.message });
    probe = (path) => {
      const o = prober.decode(path);
      return isPromise(o) ? o.then(post) : post(o);
    };
  } else {
    const { Prober } = await import('./prober.js');
    const prober = new Prober(storage, loaded as FileScanner, ctx);
    const post = (o: ProbeOutcome): WorkerBatch['outcomes'][number] => (o.ok ? o : { ok: false, code: o.error.code, message: o.error.message });
    probe = (path) => {
      const o = prober.probe(path);
      return isPromise(o) ? o.then(post) : post(o);
    };
    let schemasSent = 0;
    newSchemas = () => {
      const stored = prober.schemas.stored;
      const out = stored.slice(schemasSent);
      schemasSent = stored.length;
      return out;
    };
  }
  const next = new Int32Array(job.counter);
  for (;;) {
    const start = Atomics.add(next, 0, job.batch);
    if (start >= job.paths.length) return;
    const end = Math.min(job.paths.length, start + job.batch);
    const outcomes: WorkerBatch['outcomes'] = [];
    for (let k = start; k < end; k++) {
      const o = probe(job.paths[k]!);
      outcomes.push(isPromise(o) ? await o : o); // no microtask turn per synchronous probe
    }
    const batch: WorkerBatch = { start, outcomes, newSchemas: newSchemas() };
    parentPort!.postMessage(batch);
  }
}

/**
 * Stats listed files in batches claimed from the shared counter, as the listing would have (`stat`
 * of the root-relative path, links followed: the listing already checked where they lead). A file
 * that cannot be stat'ed here gets NaN: the engine's thread stats it again and reports what it finds.
 */
function runStat(job: StatJob): void {
  const prefix = job.root.endsWith('/') ? job.root : `${job.root}/`;
  const next = new Int32Array(job.counter);
  for (;;) {
    const start = Atomics.add(next, 0, job.batch);
    if (start >= job.paths.length) return;
    const end = Math.min(job.paths.length, start + job.batch);
    const values = new Float64Array(2 * (end - start));
    for (let k = start; k < end; k++) {
      const i = 2 * (k - start);
      try {
        const st = fs.statSync(prefix + job.paths[k]!);
        values[i] = st.size;
        values[i + 1] = st.mtimeMs;
      } catch {
        values[i] = values[i + 1] = NaN;
      }
    }
    const batch: StatBatch = { start, values };
    parentPort!.postMessage(batch, [values.buffer]);
  }
}

parentPort!.on('message', (job: WorkerJob | StatJob | { warm: WorkerJob['module']; lean?: boolean }) => {
  if ('warm' in job) {
    void load(job.warm, job.lean === true);
    return;
  }
  if ('stat' in job) {
    runStat(job);
    parentPort!.postMessage('end');
    return;
  }
  run(job).then(
    () => parentPort!.postMessage('end'),
    // The probers never reject; anything else is a bug of this thread: end the job so the engine fails it loudly.
    (e: unknown) => {
      throw e;
    },
  );
});
