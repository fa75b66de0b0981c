import type { Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import { fileGlobs, globMatcher } from '../engine/definition.js';
import { describeSchema, encodeSchema, manifestArrowSchema } from '../manifest/schema.js';
import { fileFingerprint, placeUnits } from '../manifest/segments.js';
import { createHash } from 'node:crypto';
import { LocalStorage, type FileTail } from '../storage/local.js';
import { isHighLatencyDir } from '../storage/mounts.js';
import { mapBounded } from '../storage/request-policy.js';
import type { SourceStorage } from '../scanner.js';
import type { FileProbe, FileScanner, FileStat, ProbeFile, ScanContext, ScannedEntry } from '../scanner.js';
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

const DEFAULT_TAIL = 64 * 1024;
/** Files probed between two yields to the event loop (bounds the async probes in flight too). */
const BATCH = 64;

/** Lists the source's files for a file scanner: `files` globs, or every file with its extensions; hidden and `_` names skipped. */
export function listSourceFiles(storage: LocalStorage, scanner: FileScanner, spec: ScanContext['spec'], withStats: boolean): FileStat[] {
  const globs = fileGlobs(spec);
  const matches = globs ? globMatcher(globs) : (p: string) => scanner.extensions.some((e) => p.endsWith(e));
  return storage.listSync('', (name) => !name.startsWith('.') && !name.startsWith('_'), withStats).filter((f) => matches(f.path));
}

/** {@link listSourceFiles} for any storage (object stores list with sizes, mtimes and ETags). */
export async function listSourceFilesAsync(storage: SourceStorage, scanner: FileScanner, spec: ScanContext['spec']): Promise<FileStat[]> {
  const globs = fileGlobs(spec);
  const matches = globs ? globMatcher(globs) : (p: string) => scanner.extensions.some((e) => p.endsWith(e));
  const visible = (p: string): boolean => !p.split('/').some((n) => n.startsWith('.') || n.startsWith('_'));
  return (await storage.list()).filter((f) => visible(f.path) && matches(f.path));
}

/** A storage that can read a tail in one request (object stores do). */
type TailReader = SourceStorage & { readTail?(path: string, want: number): Promise<FileTail & { etag?: string }> };

/** One probed file: its manifest entry, or the error that the file gave. */
export type ProbeOutcome = { ok: true; file: ManifestFile; warnings: string[] } | { ok: false; error: LakemapError };

/**
 * Probes files one by one into manifest entries, reusing one tail buffer while probes are synchronous.
 * Used by the engine's thread and by probe workers alike.
 */
export class Prober {
  readonly schemas = new SchemaTable();
  private readonly tailBytes: number;
  private scratch: Uint8Array;

  constructor(
    private readonly storage: SourceStorage,
    private readonly scanner: FileScanner,
    private readonly ctx: ScanContext,
  ) {
    this.tailBytes = scanner.tailBytes ?? DEFAULT_TAIL;
    this.scratch = new Uint8Array(this.tailBytes);
  }

  /** Probes `path`; the outcome is returned directly when the scanner answered synchronously. */
  probe(path: string): ProbeOutcome | Promise<ProbeOutcome> {
    try {
      const { tail, size, mtimeMs } = (this.storage as LocalStorage).readTailSync(path, this.tailBytes, this.scratch);
      const file: ProbeFile = { path, size, mtimeMs, tail, read: (o, l) => this.storage.read(path, o, l) };
      const result = this.scanner.probe(file, this.ctx);
      if (!isPromise(result)) return this.accept(path, size, mtimeMs, tail, result);
      this.scratch = new Uint8Array(this.tailBytes); // the pending probe keeps the old buffer
      return result.then(
        (r) => this.accept(path, size, mtimeMs, tail, r),
        (err) => ({ ok: false, error: asLakemapError(this.scanner.format, path, err) }),
      );
    } catch (err) {
      return { ok: false, error: asLakemapError(this.scanner.format, path, err) };
    }
  }

  /**
   * Probes one listed file without blocking: the tail comes from the storage's `readTail` (one
   * request on an object store) or from `stat` + `read`. For high-latency storages, many at once.
   */
  async probeAsync(stat: FileStat): Promise<ProbeOutcome> {
    const path = stat.path;
    try {
      const storage = this.storage as TailReader;
      let t: FileTail & { etag?: string };
      if (storage.readTail) t = await storage.readTail(path, this.tailBytes);
      else {
        const st = stat.size >= 0 ? stat : await storage.stat(path);
        if (!st) throw new LakemapError('NOT_FOUND', `${path} not found under ${storage.root}`, { path });
        const n = Math.min(st.size, this.tailBytes);
        t = { tail: await storage.read(path, st.size - n, n), size: st.size, mtimeMs: st.mtimeMs, ...(st.etag ? { etag: st.etag } : {}) };
      }
      const file: ProbeFile = { path, size: t.size, mtimeMs: t.mtimeMs, tail: t.tail, read: (o, l) => storage.read(path, o, l) };
      return this.accept(path, t.size, t.mtimeMs, t.tail, await this.scanner.probe(file, this.ctx), t.etag);
    } catch (err) {
      return { ok: false, error: asLakemapError(this.scanner.format, path, err) };
    }
  }

  private accept(path: string, size: number, mtimeMs: number, tail: Uint8Array, probe: FileProbe, etag?: string): ProbeOutcome {
    try {
      const units = checkEntry(this.scanner.format, path, probe);
      // An ETag joins the fingerprint: a same-size rewrite within the store's mtime granularity changes it.
      const derived = fileFingerprint(size, mtimeMs, tail) + (etag ? `-${createHash('sha256').update(etag).digest('hex').slice(0, 12)}` : '');
      const file: ManifestFile = {
        path,
        sizeBytes: size,
        mtimeMs,
        ...(etag ? { etag } : {}),
        fingerprint: probe.fingerprint ?? derived,
        rows: probe.rows,
        liveRows: probe.liveRows ?? probe.rows,
        liveRowsExact: probe.liveRowsExact ?? true,
        schemaIndex: this.schemas.indexOf(probe.schema),
        units,
      };
      if (probe.details) file.details = probe.details;
      return { ok: true, file, warnings: probe.warnings?.map((w) => `${path}: ${w}`) ?? [] };
    } catch (err) {
      return { ok: false, error: asLakemapError(this.scanner.format, path, err) };
    }
  }
}

/** Where probe workers come from; absent when the engine runs from sources a worker cannot load. */
export interface ProbeWorkers {
  /** How many worker threads to add to the engine's own thread. */
  count: number;
  /** Starts the threads and has them load a scanner ahead of its first job. */
  warm(module: { url: string; exportName: string }): void;
  /** Starts one worker on a share of `paths`. */
  start(job: WorkerJob, onBatch: (batch: WorkerBatch) => void): { done: Promise<void>; stop(): void };
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
 * Probes every listed file that changed since `previous` (size or mtime differ) and carries the
 * entries of unchanged files over without opening them. With `workers`, worker threads claim batches
 * of files from the same shared counter as this thread, so the cores share the work whatever each
 * thread's speed.
 */
export async function scanFiles(
  storage: SourceStorage,
  scanner: FileScanner,
  ctx: ScanContext,
  listed: FileStat[],
  previous: Manifest | undefined,
  hooks: FileScanHooks,
  concurrency: number,
  workers?: ProbeWorkers,
): Promise<FileScanResult> {
  const skipInvalid = ctx.spec.skip_invalid === true;
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
    const prev = stat.size < 0 ? undefined : prevByPath.get(stat.path);
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
      files[toProbe[k]!] = outcome.file;
      if (outcome.warnings.length) warnings.push(...outcome.warnings);
      return;
    }
    const e = outcome.error;
    if (!skipInvalid || e.code === 'CANCELLED' || e.code === 'PATH_ESCAPE') throw e;
    const entry = { path: listed[toProbe[k]!]!.path, code: e.code, reason: e.message };
    skipped.push(entry);
    hooks.skipped(entry);
  };

  const batch = Math.max(1, Math.min(BATCH, concurrency));
  const counter = new SharedArrayBuffer(4);
  const next = new Int32Array(counter);
  let probed = 0;
  const reused = listed.length - toProbe.length;
  const report = (): void => hooks.progress(reused + probed, listed.length);

  // Object stores and mounted buckets: each call is a round trip, so many reads are kept in flight.
  if (!(storage instanceof LocalStorage) || isHighLatencyDir(storage.root)) {
    await mapBounded(toProbe, concurrency, async (idx, k) => {
      if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
      record(k, await prober.probeAsync(listed[idx]!));
      if (++probed % BATCH === 0) report();
    });
    report();
    return {
      files: files.filter((f): f is ManifestFile => f !== undefined),
      fileSchemas: schemas.stored,
      schemaOf: (i) => schemas.arrow(i),
      skipped,
      warnings,
    };
  }

  const running: { done: Promise<void>; stop(): void }[] = [];
  let workerError: LakemapError | undefined;
  if (workers && scanner.workerModule && toProbe.length >= WORKER_MIN_FILES) {
    const job: WorkerJob = { root: storage.root, spec: ctx.spec, module: scanner.workerModule, paths: toProbe.map((i) => listed[i]!.path), counter, batch };
    for (let w = 0; w < workers.count; w++) {
      const remap: number[] = [];
      running.push(
        workers.start(job, (b) => {
          try {
            for (const s of b.newSchemas) remap.push(schemas.indexOfStored(s));
            b.outcomes.forEach((o, j) => {
              const outcome: ProbeOutcome = o.ok
                ? { ok: true, file: { ...o.file, schemaIndex: remap[o.file.schemaIndex]! }, warnings: o.warnings }
                : { ok: false, error: new LakemapError(o.code, o.message, { path: job.paths[b.start + j]! }) };
              record(b.start + j, outcome);
            });
            probed += b.outcomes.length;
          } catch (e) {
            workerError ??= LakemapError.is(e) ? e : asLakemapError(scanner.format, storage.root, e);
          }
        }),
      );
    }
  }

  try {
    for (;;) {
      if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
      if (workerError) throw workerError;
      const start = Atomics.add(next, 0, batch);
      if (start >= toProbe.length) break;
      const end = Math.min(toProbe.length, start + batch);
      const pending: Promise<void>[] = [];
      for (let k = start; k < end; k++) {
        const outcome = prober.probe(listed[toProbe[k]!]!.path);
        if (isPromise(outcome)) pending.push(outcome.then((o) => record(k, o)));
        else record(k, outcome);
      }
      if (pending.length) await Promise.all(pending);
      probed += end - start;
      report();
      await yieldToEventLoop();
    }
    await Promise.all(running.map((r) => r.done));
    if (workerError) throw workerError;
  } finally {
    for (const r of running) r.stop();
  }
  report();

  return {
    files: files.filter((f): f is ManifestFile => f !== undefined),
    fileSchemas: schemas.stored,
    schemaOf: (i) => schemas.arrow(i),
    skipped,
    warnings,
  };
}

/** Spec keys the engine itself reads; changing them never changes what a probe returns. */
const ENGINE_KEYS = new Set(['files', 'segment_max_rows', 'skip_invalid']);

/** True when two specs give a scanner the same options, so a probe's earlier answer still holds. */
export function sameScannerOptions(a: ScanContext['spec'], b: ScanContext['spec']): boolean {
  const pick = (s: ScanContext['spec']): string =>
    JSON.stringify(Object.keys(s).filter((k) => !ENGINE_KEYS.has(k)).sort().map((k) => [k, s[k]]));
  return pick(a) === pick(b);
}

/** Checks a scanner's entry for consistency and returns its placed units. */
export function checkEntry(format: string, path: string, e: ScannedEntry): ManifestFile['units'] {
  const bad = (what: string): never => {
    throw new LakemapError('SCANNER_ERROR', `scanner "${format}" returned ${what} for ${path}`, { path });
  };
  if (!Number.isSafeInteger(e.rows) || e.rows < 0) bad(`an invalid row count (${e.rows})`);
  if (!Array.isArray(e.units)) bad('no units');
  let sum = 0;
  for (const u of e.units) {
    if (!Number.isSafeInteger(u.rows) || u.rows < 0) bad(`a unit with an invalid row count (${u.rows})`);
    if (!Number.isFinite(u.byteSize) || u.byteSize < 0) bad(`a unit with an invalid byte size (${u.byteSize})`);
    sum += u.rows;
  }
  if (sum !== e.rows) bad(`${e.rows} rows but units that add up to ${sum}`);
  if (e.liveRows !== undefined && (!Number.isSafeInteger(e.liveRows) || e.liveRows < 0 || e.liveRows > e.rows)) {
    bad(`an invalid live row count (${e.liveRows} of ${e.rows})`);
  }
  return placeUnits(e.units);
}

/** Any error from a scanner as a LakemapError that names the file. */
export function asLakemapError(format: string, path: string, err: unknown): LakemapError {
  if (LakemapError.is(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new LakemapError('SCANNER_ERROR', `scanner "${format}" failed on ${path}: ${msg}`, { path, cause: err });
}

/** Distinct schemas seen in a scan, deduplicated by object identity and then by their readable form. */
export class SchemaTable {
  readonly stored: ManifestSchema[] = [];
  private readonly arrows: (Schema | undefined)[] = [];
  private readonly byObject = new Map<Schema, number>();
  private readonly bySignature = new Map<string, number>();

  indexOf(schema: Schema): number {
    let idx = this.byObject.get(schema);
    if (idx !== undefined) return idx;
    const sig = JSON.stringify(describeSchema(schema));
    idx = this.bySignature.get(sig);
    if (idx === undefined) {
      idx = this.stored.length;
      this.stored.push(encodeSchema(schema));
      this.arrows.push(schema);
      this.bySignature.set(sig, idx);
    }
    this.byObject.set(schema, idx);
    return idx;
  }

  indexOfStored(s: ManifestSchema): number {
    const sig = JSON.stringify(s.fields);
    let idx = this.bySignature.get(sig);
    if (idx === undefined) {
      idx = this.stored.length;
      this.stored.push(s);
      this.arrows.push(undefined);
      this.bySignature.set(sig, idx);
    }
    return idx;
  }

  arrow(i: number): Schema {
    let s = this.arrows[i];
    if (!s) {
      s = manifestArrowSchema({ schema: this.stored[i]! });
      this.arrows[i] = s;
    }
    return s;
  }
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as Promise<T>)?.then === 'function';
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
