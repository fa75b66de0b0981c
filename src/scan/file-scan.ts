import type { Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileScanner, FileStat, ScanContext } from '../scanner.js';
import type { Manifest, ManifestFile, ManifestSchema, SkippedFile } from '../types.js';

/** What scanning the files of a source produced. */
export interface FileScanResult {
  files: ManifestFile[];
  fileSchemas: ManifestSchema[];
  /** Arrow schema of each `fileSchemas` entry, decoded lazily. */
  schemaOf(index: number): Schema;
  skipped: SkippedFile[];
  warnings: string[];
}

/** Hooks the scan reports through. */
export interface FileScanHooks {
  progress(done: number, total: number): void;
  skipped(file: SkippedFile): void;
}

import { DEFAULT_TAIL_BYTES, Prober, asLakemapError, isPromise, type ProbeOutcome } from './prober.js';
import { readBudget } from './budget.js';
import type { DecodedFile } from './probe-lean.js';
export { Prober, SchemaTable, asLakemapError, checkEntry, type ProbeOutcome } from './prober.js';
import { WORKER_MIN_FILES, sameScannerOptions, workerModule } from './listing.js';
export { listSourceFiles, sameScannerOptions, workerModule, WORKER_MIN_FILES } from './listing.js';

/** Files probed between two yields to the event loop (bounds the async probes in flight too). */
const BATCH = 64;
/**
 * Least time between two progress reports of the local scan. Reporting after every batch made about
 * one job event per percent (92 per scan, each a structured clone of the job's info and at times a
 * record write): 4–6% of a 10k-file scan's profile (issue #10).
 */
const REPORT_MS = 50;

/** Where probe workers come from; absent when the engine runs from sources a worker cannot load. */
export interface ProbeWorkers {
  /** How many worker threads to add to the engine's own thread. */
  count: number;
  /** Starts the threads and has them load a scanner (`lean`: a split scanner's decoder) ahead of its first job. */
  warm(module: { url: string; exportName: string }, lean?: boolean): void;
  /** Starts one free worker on a share of `paths`; undefined when none is free (another refresh uses them). */
  start(job: WorkerJob, onBatch: (batch: WorkerBatch) => void): { done: Promise<void>; stop(): void } | undefined;
  /** Starts one free worker stat'ing a share of a listing's paths; undefined when none is free. */
  start(job: StatJob, onBatch: (batch: StatBatch) => void): { done: Promise<void>; stop(): void } | undefined;
  /** Ends every thread; later `start` calls return undefined. */
  close(): Promise<void>;
}

/** What a probe worker is asked to do. */
export interface WorkerJob {
  root: string;
  spec: ScanContext['spec'];
  module: { url: string; exportName: string };
  /** `module` is a split scanner's {@link FileDecoder}: the worker posts decoded files for the engine's thread to finish. */
  lean?: boolean;
  /** The scanner's format (names it in errors) and tail bytes. */
  format: string;
  tailBytes?: number;
  paths: string[];
  /** Shared counter of the next unclaimed index into `paths`. */
  counter: SharedArrayBuffer;
  batch: number;
  /** The process's read budget: its limit and the state shared by every thread. */
  budget: { limit: number; shared: SharedArrayBuffer };
}

/** A worker's share of a local listing's stats: root-relative paths, claimed in batches from `counter`. */
export interface StatJob {
  stat: true;
  root: string;
  paths: string[];
  counter: SharedArrayBuffer;
  batch: number;
}

/** Sizes and mtimes (pairs, NaN when the worker could not stat the file) from `paths[start]` on. */
export interface StatBatch {
  start: number;
  values: Float64Array;
}

/** Results a probe worker posts for one claimed batch. */
export interface WorkerBatch {
  /** Index into `paths` of the first file of the batch. */
  start: number;
  outcomes: ({ ok: true; file: ManifestFile; warnings: string[] } | { ok: true; decoded: DecodedFile } | { ok: false; code: LakemapError['code']; message: string })[];
  /** Schemas the worker met for the first time, in its own index order. */
  newSchemas: ManifestSchema[];
}


/**
 * Probes every listed file that changed since `previous` (size or mtime differ; every file with
 * `verify: "footer"`) and carries the entries of unchanged files over without opening them.
 *
 * Two paths: on a storage with synchronous tail reads (local disk) files are probed in batches on
 * this thread and, with `workers`, in worker threads that claim batches from the same shared
 * counter; on any other storage (remote, high latency) up to `concurrency` probes run at once.
 * Either way, reads past the tails wait for the {@link readBudget}; on the pipelined path the tails
 * count against it too (they are read into fresh buffers held until their probe ends).
 */
export async function scanFiles(
  storage: ScanStorage,
  scanner: FileScanner,
  ctx: ScanContext,
  listed: FileStat[],
  previous: Manifest | undefined,
  hooks: FileScanHooks,
  concurrency: number,
  workers?: ProbeWorkers,
): Promise<FileScanResult> {
  const skipInvalid = ctx.spec.skip_invalid === true;
  const verify = ctx.spec.verify === 'footer';
  // Fingerprints are comparable only when the previous version hashed footers too.
  const prevVerified = previous?.externalSpec.verify === 'footer';
  const prober = new Prober(storage, scanner, ctx);
  const schemas = prober.schemas;
  const files: (ManifestFile | undefined)[] = new Array(listed.length);
  const skipped: SkippedFile[] = [];
  const warnings: string[] = [];

  // Unchanged files are carried over; the others are probed.
  const toProbe: number[] = [];
  const prevByPath = new Map<string, ManifestFile>();
  if (previous && sameScannerOptions(previous.externalSpec, ctx.spec)) for (const f of previous.files) prevByPath.set(f.path, f);
  const prevSchemaIndex = new Map<number, number>();
  for (let i = 0; i < listed.length; i++) {
    const stat = listed[i]!;
    const prev = stat.size < 0 || verify ? undefined : prevByPath.get(stat.path);
    if (prev && prev.sizeBytes === stat.size && prev.mtimeMs === stat.mtimeMs && prev.etag === stat.etag && prev.schemaIndex >= 0) {
      let idx = prevSchemaIndex.get(prev.schemaIndex);
      if (idx === undefined) {
        idx = schemas.indexOfStored(previous!.fileSchemas[prev.schemaIndex]!);
        prevSchemaIndex.set(prev.schemaIndex, idx);
      }
      files[i] = prev.schemaIndex === idx ? prev : { ...prev, schemaIndex: idx };
    } else toProbe.push(i);
  }

  const record = (k: number, outcome: ProbeOutcome): void => {
    if (outcome.ok) {
      const f = outcome.file;
      files[toProbe[k]!] = f;
      if (outcome.warnings.length) warnings.push(...outcome.warnings);
      if (verify) {
        const prev = prevByPath.get(f.path);
        if (prevVerified && prev && prev.sizeBytes === f.sizeBytes && prev.mtimeMs === f.mtimeMs && prev.fingerprint !== f.fingerprint) {
          warnings.push(`${f.path}: content changed although its size and mtime did not (found by verify: "footer")`);
        }
      }
      return;
    }
    const e = outcome.error;
    if (!skipInvalid || e.code === 'CANCELLED' || e.code === 'PATH_ESCAPE') throw e;
    const entry = { path: listed[toProbe[k]!]!.path, code: e.code, reason: e.message };
    skipped.push(entry);
    hooks.skipped(entry);
  };
  // The first error that fails the scan; every probe still in flight is awaited before it is thrown,
  // so no promise of the scan is ever left without a handler.
  let fatal: LakemapError | undefined;
  const recordSafely = (k: number, outcome: ProbeOutcome): void => {
    try {
      record(k, outcome);
    } catch (e) {
      fatal ??= LakemapError.is(e) ? e : asLakemapError(scanner.format, storage.root, e);
    }
  };

  let probed = 0;
  const reused = listed.length - toProbe.length;
  const report = (): void => hooks.progress(reused + probed, listed.length);

  if (storage.readTailSync) {
    await scanLocal();
  } else {
    await scanPipelined();
  }
  if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
  if (fatal) throw fatal;
  report();

  return {
    files: files.filter((f): f is ManifestFile => f !== undefined),
    fileSchemas: schemas.stored,
    schemaOf: (i) => schemas.arrow(i),
    skipped,
    warnings,
  };

  async function scanLocal(): Promise<void> {
    let lastReport = performance.now();
    const batch = Math.max(1, Math.min(BATCH, concurrency));
    const counter = new SharedArrayBuffer(4);
    const next = new Int32Array(counter);
    const running: { done: Promise<void>; stop(): void }[] = [];
    let finished = false;
    let markAllIn = (): void => {};
    const allIn = new Promise<true>((resolve) => (markAllIn = () => resolve(true)));
    const module = workerModule(scanner);
    if (workers && module && toProbe.length >= WORKER_MIN_FILES) {
      const budget = { limit: readBudget.limit, shared: readBudget.shared };
      const job: WorkerJob = { root: storage.root, spec: ctx.spec, ...module, format: scanner.format, paths: toProbe.map((i) => listed[i]!.path), counter, batch, budget };
      if (scanner.tailBytes !== undefined) job.tailBytes = scanner.tailBytes;
      for (let w = 0; w < workers.count; w++) {
        const remap: number[] = [];
        const started = workers.start(job, (b) => {
          for (const s of b.newSchemas) remap.push(schemas.indexOfStored(s));
          b.outcomes.forEach((o, j) => {
            const path = job.paths[b.start + j]!;
            const outcome: ProbeOutcome = !o.ok
              ? { ok: false, error: new LakemapError(o.code, o.message, { path }) }
              : 'decoded' in o
                ? prober.finishDecoded(path, o.decoded)
                : { ok: true, file: { ...o.file, schemaIndex: remap[o.file.schemaIndex]! }, warnings: o.warnings };
            recordSafely(b.start + j, outcome);
          });
          probed += b.outcomes.length;
          if (probed >= toProbe.length) markAllIn();
        });
        if (started) running.push(started);
      }
    }
    try {
      for (;;) {
        if (ctx.signal.aborted || fatal) return;
        const start = Atomics.add(next, 0, batch);
        if (start >= toProbe.length) break;
        const end = Math.min(toProbe.length, start + batch);
        const pending: Promise<void>[] = [];
        for (let k = start; k < end; k++) {
          const outcome = prober.probe(listed[toProbe[k]!]!.path);
          if (isPromise(outcome)) pending.push(outcome.then((o) => recordSafely(k, o)));
          else recordSafely(k, outcome);
        }
        if (pending.length) await Promise.all(pending);
        probed += end - start;
        // Each report may be a progress event with a copy of the job's info: a few per second are plenty.
        const now = performance.now();
        if (now - lastReport >= REPORT_MS) {
          report();
          lastReport = now;
        }
        await yieldToEventLoop();
      }
      // Wait for the workers' batches in flight (not for a worker still starting: it has nothing left
      // to claim), but not past a cancellation or a failure.
      const ended = Promise.all(running.map((r) => r.done)).then(
        () => true,
        (e: unknown) => ((fatal ??= LakemapError.is(e) ? e : asLakemapError(scanner.format, storage.root, e)), true),
      );
      while (running.length && probed < toProbe.length && !(await Promise.race([ended, allIn, tick(50)]))) {
        if (ctx.signal.aborted || fatal) return;
      }
      finished = true;
    } finally {
      // A worker that has not ended yet returns to the pool when it does; on a cancellation or failure it is ended.
      for (const r of running) {
        if (finished && !fatal) void r.done.then(r.stop, r.stop);
        else r.stop();
      }
    }
  }

  async function scanPipelined(): Promise<void> {
    let next = 0;
    const tailBytes = scanner.tailBytes ?? DEFAULT_TAIL_BYTES;
    const lane = async (): Promise<void> => {
      for (;;) {
        if (ctx.signal.aborted || fatal) return;
        const k = next++;
        if (k >= toProbe.length) return;
        const path = listed[toProbe[k]!]!.path;
        // The tail is held until the probe ends, so it counts against the process's read budget.
        let release: () => void;
        try {
          release = await readBudget.acquire(tailBytes, path, ctx.signal, { tail: true });
        } catch (e) {
          recordSafely(k, { ok: false, error: asLakemapError(scanner.format, path, e) });
          probed++;
          continue;
        }
        try {
          recordSafely(k, await prober.probe(path));
        } finally {
          release();
        }
        probed++;
        if (probed % BATCH === 0) report();
      }
    };
    const lanes = Math.max(1, Math.min(concurrency, toProbe.length));
    await Promise.all(Array.from({ length: lanes }, lane));
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function tick(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms));
}
