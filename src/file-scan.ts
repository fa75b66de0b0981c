import type { Schema } from 'apache-arrow';
import { LakemapError } from './errors.js';
import { fileGlobs, globMatcher } from './definition.js';
import { describeSchema, encodeSchema, manifestArrowSchema } from './schema.js';
import { fileFingerprint, placeUnits } from './segments.js';
import type { LocalStorage } from './storage/local.js';
import type { FileProbe, FileScanner, FileStat, ProbeFile, ScanContext, ScannedEntry } from './scanner.js';
import type { Manifest, ManifestFile, ManifestSchema, SkippedFile } from './types.js';

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
export function listSourceFiles(storage: LocalStorage, scanner: FileScanner, spec: ScanContext['spec']): FileStat[] {
  const globs = fileGlobs(spec);
  const matches = globs ? globMatcher(globs) : (p: string) => scanner.extensions.some((e) => p.endsWith(e));
  return storage.listSync('', (name) => !name.startsWith('.') && !name.startsWith('_')).filter((f) => matches(f.path));
}

/**
 * Probes every listed file that changed since `previous` (size or mtime differ) and carries the
 * entries of unchanged files over without opening them.
 */
export async function scanFiles(
  storage: LocalStorage,
  scanner: FileScanner,
  ctx: ScanContext,
  listed: FileStat[],
  previous: Manifest | undefined,
  hooks: FileScanHooks,
  concurrency: number,
): Promise<FileScanResult> {
  const skipInvalid = ctx.spec.skip_invalid === true;
  const schemas = new SchemaTable();
  const prevByPath = new Map<string, ManifestFile>();
  if (previous && sameScannerOptions(previous.externalSpec, ctx.spec)) for (const f of previous.files) prevByPath.set(f.path, f);
  const prevSchemaIndex = new Map<number, number>();

  const files: (ManifestFile | undefined)[] = new Array(listed.length);
  const skipped: SkippedFile[] = [];
  const warnings: string[] = [];
  const tailBytes = scanner.tailBytes ?? DEFAULT_TAIL;
  const batch = Math.max(1, Math.min(BATCH, concurrency));
  let done = 0;

  const accept = (i: number, stat: { size: number; mtimeMs: number }, tail: Uint8Array, probe: FileProbe): void => {
    const path = listed[i]!.path;
    const units = checkEntry(scanner.format, path, probe);
    if (probe.warnings?.length) warnings.push(...probe.warnings.map((w) => `${path}: ${w}`));
    const file: ManifestFile = {
      path,
      sizeBytes: stat.size,
      mtimeMs: stat.mtimeMs,
      fingerprint: probe.fingerprint ?? fileFingerprint(stat.size, stat.mtimeMs, tail),
      rows: probe.rows,
      liveRows: probe.liveRows ?? probe.rows,
      liveRowsExact: probe.liveRowsExact ?? true,
      schemaIndex: schemas.indexOf(probe.schema),
      units,
    };
    if (probe.details) file.details = probe.details;
    files[i] = file;
  };
  const reject = (i: number, err: unknown): void => {
    const path = listed[i]!.path;
    const e = asLakemapError(scanner.format, path, err);
    if (!skipInvalid || e.code === 'CANCELLED' || e.code === 'PATH_ESCAPE') throw e;
    const entry = { path, code: e.code, reason: e.message };
    skipped.push(entry);
    hooks.skipped(entry);
  };

  for (let start = 0; start < listed.length; start += batch) {
    if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
    const pending: Promise<void>[] = [];
    const end = Math.min(listed.length, start + batch);
    for (let i = start; i < end; i++) {
      const stat = listed[i]!;
      const prev = prevByPath.get(stat.path);
      if (prev && prev.sizeBytes === stat.size && prev.mtimeMs === stat.mtimeMs && prev.schemaIndex >= 0) {
        let idx = prevSchemaIndex.get(prev.schemaIndex);
        if (idx === undefined) {
          idx = schemas.indexOfStored(previous!.fileSchemas[prev.schemaIndex]!);
          prevSchemaIndex.set(prev.schemaIndex, idx);
        }
        files[i] = { ...prev, schemaIndex: idx };
        continue;
      }
      try {
        const { tail, size, mtimeMs } = storage.readTailSync(stat.path, tailBytes);
        const file: ProbeFile = { path: stat.path, size, mtimeMs, tail, read: (o, l) => storage.read(stat.path, o, l) };
        const result = scanner.probe(file, ctx);
        if (isPromise(result)) {
          pending.push(result.then((r) => accept(i, { size, mtimeMs }, tail, r), (err) => reject(i, err)));
        } else accept(i, { size, mtimeMs }, tail, result);
      } catch (err) {
        reject(i, err);
      }
    }
    if (pending.length) await Promise.all(pending);
    done = end;
    hooks.progress(done, listed.length);
    await yieldToEventLoop();
  }

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
class SchemaTable {
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
