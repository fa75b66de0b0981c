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
export { Prober, SchemaTable, asLakemapError, checkEntry, type ProbeOutcome } from './prober.js';
import { sameScannerOptions } from './listing.js';
export { listSourceFiles, sameScannerOptions } from './listing.js';

/** Files probed between two yields to the event loop (bounds the async probes in flight too). */
const BATCH = 64;

/** Where probe workers come from; absent when the engine runs from sources a worker cannot load. */
export interface ProbeWorkers {
  /** How many worker threads to add to the engine's own thread. */
  count: number;
  /** Starts the threads and has them load a scanner ahead of its first job. */
  warm(module: { url: string; exportName: string }): void;
  /** Starts one free worker on a share of `paths`; undefined when none is free (another refresh uses them). */
  start(job: WorkerJob, onBatch: (batch: WorkerBatch) => void): { done: Promise<void>; stop(): void } | undefined;
  /** Ends every thread; later `start` calls return undefined. */
  close(): Promise<void>;
}

/** What a probe worker is asked to do. */
export interface WorkerJob {
  root: string;
  spec: ScanContext['spec'];
  module: { url: string; exportName: string };
  paths: string[];
  /** Shared counter of the next unclaimed index into `paths`. */
  counter: SharedArrayBuffer;
  batch: number;
  /** The process's read budget: its limit and the state shared by every thread. */
  budget: { limit: number; shared: SharedArrayBuffer };
}

/** Results a probe worker posts for one claimed batch. */
export interface WorkerBatch {
  /** Index into `paths` of the first file of the batch. */
  start: number;
  outcomes: ({ ok: true; file: ManifestFile; warnings: string[] } | { ok: false; code: LakemapError['code']; message: string })[];
  /** Schemas the worker met for the first time, in its own index order. */
  newSchemas: ManifestSchema[];
}

/** Files below which starting a worker costs more than it saves. */
const WORKER_MIN_FILES = 1000;

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
    const batch = Math.max(1, Math.min(BATCH, concurrency));
    const counter = new SharedArrayBuffer(4);
    const next = new Int32Array(counter);
    const running: { done: Promise<void>; stop(): void }[] = [];
    if (workers && scanner.workerModule && toProbe.length >= WORKER_MIN_FILES) {
      const budget = { limit: readBudget.limit, shared: readBudget.shared };
      const job: WorkerJob = { root: storage.root, spec: ctx.spec, module: scanner.workerModule, paths: toProbe.map((i) => listed[i]!.path), counter, batch, budget };
      for (let w = 0; w < workers.count; w++) {
        const remap: number[] = [];
        const started = workers.start(job, (b) => {
          for (const s of b.newSchemas) remap.push(schemas.indexOfStored(s));
          b.outcomes.forEach((o, j) => {
            const outcome: ProbeOutcome = o.ok
              ? { ok: true, file: { ...o.file, schemaIndex: remap[o.file.schemaIndex]! }, warnings: o.warnings }
              : { ok: false, error: new LakemapError(o.code, o.message, { path: job.paths[b.start + j]! }) };
            recordSafely(b.start + j, outcome);
          });
          probed += b.outcomes.length;
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
        report();
        await yieldToEventLoop();
      }
      // Wait for the workers, but not past a cancellation or a failure.
      const ended = Promise.all(running.map((r) => r.done)).then(
        () => undefined,
        (e: unknown) => void (fatal ??= LakemapError.is(e) ? e : asLakemapError(scanner.format, storage.root, e)),
      );
      while (running.length && !(await Promise.race([ended.then(() => true), tick(50)]))) {
        if (ctx.signal.aborted || fatal) return;
      }
    } finally {
      for (const r of running) r.stop();
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
