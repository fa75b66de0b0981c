// The scanner conformance check: what the engine relies on, checked on a scanner author's own files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import { LocalStorage } from '../storage/local.js';
import type { FileProbe, FileScanner, ProbeFile, ScannedEntry, Scanner, SnapshotContext, SourceStorage, TableScanner } from '../scanner.js';
import { corruptVariants, fixtureDir } from './fixtures.js';

/** What {@link checkScanner} looks at. */
export interface ConformanceOptions {
  /**
   * For a file scanner: the source directory holding sample files (every file with one of the
   * scanner's extensions is probed). For a table scanner: the table directory.
   */
  source: string;
  /** The external spec to probe with (default `{ format: scanner.format }`). */
  spec?: Record<string, unknown>;
  /**
   * Most bytes a file probe may read from one file, tail included (default 1 MiB plus the tail).
   * Ignored for scanners with `tailBytes: 0`, which may read whole files.
   */
  maxBytesRead?: number;
  /** Damaged copies (truncated, bytes flipped) of each sample to probe (default true; file scanners). */
  corruptions?: boolean;
  /** How long one probe or snapshot may take before it counts as hung (default 10 s). */
  timeoutMs?: number;
}

/** The outcome of {@link checkScanner}. */
export interface ConformanceReport {
  /** True when no problem was found. */
  ok: boolean;
  /** Each broken rule, naming the file. */
  problems: string[];
  /** Files (or table entries) probed successfully. */
  checked: number;
  /** Damaged copies probed (each either probed or refused with a LakemapError). */
  corruptionsChecked: number;
}

/** Codes a scanner may fail a file with; anything else (or a non-LakemapError) is a scanner bug. */
const FILE_CODES = new Set(['CORRUPT_FILE', 'UNSUPPORTED', 'INVALID_SPEC', 'VERSION_NOT_FOUND', 'NOT_FOUND', 'IO_ERROR', 'CANCELLED']);

/**
 * Checks a scanner against the contract the engine relies on, on your own sample files:
 * a schema is present; `rows` equals the sum of the units' rows; probing twice gives the same answer
 * (determinism); reads stay inside the file and within `maxBytesRead`; damaged files are refused with a
 * `LakemapError` carrying a code and the file's path (never another exception, never a hang); and a
 * cancelled signal is honoured (the call settles, and a rejection is a `LakemapError`).
 *
 * @example
 * ```ts
 * import { checkScanner } from 'lakemap/testing';
 * const report = await checkScanner(jsonlScanner, { source: 'test/fixtures/jsonl' });
 * if (!report.ok) throw new Error(report.problems.join('\n'));
 * ```
 */
export async function checkScanner(scanner: Scanner, options: ConformanceOptions): Promise<ConformanceReport> {
  const report: ConformanceReport = { ok: true, problems: [], checked: 0, corruptionsChecked: 0 };
  const spec = { format: scanner.format, ...(options.spec ?? {}) };
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    scanner.validateSpec?.(spec);
  } catch (e) {
    report.problems.push(`validateSpec refused the spec ${JSON.stringify(spec)}: ${(e as Error).message}`);
  }
  if (scanner.kind === 'file') await checkFileScanner(scanner, options, spec, timeoutMs, report);
  else await checkTableScanner(scanner, options, spec, timeoutMs, report);
  report.ok = report.problems.length === 0;
  return report;
}

/** Like {@link checkScanner}, but throws an `Error` listing every problem; for use in a test. */
export async function assertScannerConforms(scanner: Scanner, options: ConformanceOptions): Promise<ConformanceReport> {
  const report = await checkScanner(scanner, options);
  if (!report.ok) throw new Error(`scanner "${scanner.format}" breaks the scanner contract:\n  ${report.problems.join('\n  ')}`);
  return report;
}

async function checkFileScanner(scanner: FileScanner, o: ConformanceOptions, spec: Record<string, unknown>, timeoutMs: number, report: ConformanceReport): Promise<void> {
  const storage = new LocalStorage(o.source);
  const files = storage.listSync('', () => true, true).filter((f) => scanner.extensions.some((e) => f.path.endsWith(e)));
  if (files.length === 0) {
    report.problems.push(`no file ending in ${scanner.extensions.join(' or ')} under ${o.source}`);
    return;
  }
  const tailBytes = scanner.tailBytes ?? 64 * 1024;
  const budget = tailBytes === 0 ? Infinity : (o.maxBytesRead ?? 1024 * 1024 + tailBytes);
  for (const f of files) {
    const first = await probeOnce(scanner, storage, f.path, spec, timeoutMs);
    if (!first.ok) {
      report.problems.push(`${f.path}: a sample file was refused: ${first.error}`);
      continue;
    }
    const entryProblem = checkEntry(first.probe);
    if (entryProblem) report.problems.push(`${f.path}: ${entryProblem}`);
    if (first.bytesRead > budget) report.problems.push(`${f.path}: read ${first.bytesRead} bytes, more than the ${budget} allowed (metadata only)`);
    const second = await probeOnce(scanner, storage, f.path, spec, timeoutMs);
    if (second.ok && differ(signature(first.probe), signature(second.probe))) report.problems.push(`${f.path}: two probes of the same file disagree (not deterministic)`);
    const cancelled = await probeOnce(scanner, storage, f.path, spec, timeoutMs, true);
    if (!cancelled.ok && cancelled.hung) report.problems.push(`${f.path}: with a cancelled signal the probe did not settle within ${timeoutMs} ms`);
    else if (!cancelled.ok && !cancelled.lakemap) report.problems.push(`${f.path}: with a cancelled signal the probe threw something other than a LakemapError: ${cancelled.error}`);
    report.checked++;
    if (o.corruptions === false) continue;
    const dir = fixtureDir('lakemap-conformance-');
    try {
      const bytes = fs.readFileSync(path.join(storage.root, f.path));
      const damaged = new LocalStorage(dir);
      for (const v of corruptVariants(bytes, tailBytes)) {
        const name = `${v.name}${path.extname(f.path)}`;
        fs.writeFileSync(path.join(dir, name), v.bytes);
        const r = await probeOnce(scanner, damaged, name, spec, timeoutMs);
        report.corruptionsChecked++;
        const where = `${f.path} (${v.name})`;
        if (r.ok) {
          const p = checkEntry(r.probe);
          if (p) report.problems.push(`${where}: accepted a damaged copy but answered wrongly: ${p}`);
        } else if (r.hung) report.problems.push(`${where}: the probe did not settle within ${timeoutMs} ms`);
        else if (!r.lakemap) report.problems.push(`${where}: threw something other than a LakemapError (the engine reports it as SCANNER_ERROR): ${r.error}`);
        else if (!FILE_CODES.has(r.code!)) report.problems.push(`${where}: refused with code ${r.code}; expected one of ${[...FILE_CODES].join(', ')}`);
        else if (!r.error.includes(name) && r.path !== name) report.problems.push(`${where}: the error names neither the file in its message nor in its path: ${r.error}`);
        if (r.readPastEnd) report.problems.push(`${where}: asked to read past the end of the file (check lengths against the size first)`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

type ProbeRun =
  | { ok: true; probe: FileProbe; bytesRead: number; readPastEnd: boolean }
  | { ok: false; error: string; lakemap: boolean; code?: string; path?: string; hung: boolean; readPastEnd: boolean };

async function probeOnce(scanner: FileScanner, storage: LocalStorage, rel: string, spec: Record<string, unknown>, timeoutMs: number, aborted = false): Promise<ProbeRun> {
  const ac = new AbortController();
  if (aborted) ac.abort();
  const tailBytes = scanner.tailBytes ?? 64 * 1024;
  let bytesRead = 0;
  let readPastEnd = false;
  try {
    const { tail, size, mtimeMs } = storage.readTailSync(rel, tailBytes, new Uint8Array(tailBytes));
    bytesRead += tail.length;
    const file: ProbeFile = {
      path: rel,
      size,
      mtimeMs,
      tail: tail.slice(),
      read: (offset, length) => {
        if (!(offset >= 0 && length >= 0 && offset + length <= size)) readPastEnd = true;
        bytesRead += Math.max(0, length);
        return storage.read(rel, offset, length);
      },
    };
    const probe = await withTimeout(Promise.resolve().then(() => scanner.probe(file, { spec: spec as { format: string }, signal: ac.signal })), timeoutMs);
    if (probe === TIMEOUT) return { ok: false, error: 'timed out', lakemap: false, hung: true, readPastEnd };
    return { ok: true, probe, bytesRead, readPastEnd };
  } catch (e) {
    const lakemap = LakemapError.is(e);
    return { ok: false, error: String((e as Error)?.message ?? e), lakemap, ...(lakemap ? { code: e.code, ...(e.path ? { path: e.path } : {}) } : {}), hung: false, readPastEnd };
  }
}

async function checkTableScanner(scanner: TableScanner, o: ConformanceOptions, spec: Record<string, unknown>, timeoutMs: number, report: ConformanceReport): Promise<void> {
  const storage = new LocalStorage(o.source);
  const run = async (aborted: boolean): Promise<{ ok: true; snap: Awaited<ReturnType<TableScanner['snapshot']>> } | { ok: false; error: unknown; hung: boolean }> => {
    const ac = new AbortController();
    if (aborted) ac.abort();
    const ctx: SnapshotContext = { spec: spec as { format: string }, signal: ac.signal, progress: () => {} };
    try {
      const snap = await withTimeout(scanner.snapshot(boundedStorage(storage, report), ctx), timeoutMs);
      if (snap === TIMEOUT) return { ok: false, error: new Error('timed out'), hung: true };
      return { ok: true, snap };
    } catch (error) {
      return { ok: false, error, hung: false };
    }
  };
  const first = await run(false);
  if (!first.ok) {
    report.problems.push(`${o.source}: the snapshot failed: ${(first.error as Error)?.message ?? String(first.error)}`);
    return;
  }
  const snap = first.snap;
  if (!snap.schema || !Array.isArray((snap.schema as { fields?: unknown }).fields)) report.problems.push(`${o.source}: the snapshot has no Arrow schema`);
  if (typeof snap.tableVersion !== 'string') report.problems.push(`${o.source}: tableVersion is not a string`);
  const fingerprints = new Set<string>();
  for (const e of snap.entries) {
    const p = checkEntry(e, false);
    if (p) report.problems.push(`${e.path}: ${p}`);
    if (!e.fingerprint) report.problems.push(`${e.path}: an entry without a fingerprint`);
    if (fingerprints.has(e.fingerprint)) report.problems.push(`${e.path}: fingerprint ${e.fingerprint} is used by two entries`);
    fingerprints.add(e.fingerprint);
    report.checked++;
  }
  const second = await run(false);
  if (second.ok && differ(tableSignature(second.snap), tableSignature(snap))) report.problems.push(`${o.source}: two snapshots of the same table disagree (not deterministic)`);
  const cancelled = await run(true);
  if (!cancelled.ok && cancelled.hung) report.problems.push(`${o.source}: with a cancelled signal the snapshot did not settle within ${timeoutMs} ms`);
  else if (!cancelled.ok && !LakemapError.is(cancelled.error)) report.problems.push(`${o.source}: with a cancelled signal the snapshot threw something other than a LakemapError`);
}

/** The storage a table scanner gets, noting reads that ask past the end of a file. */
function boundedStorage(storage: LocalStorage, report: ConformanceReport): SourceStorage {
  return {
    root: storage.root,
    stat: (p) => storage.stat(p),
    list: (d) => storage.list(d),
    readFile: (p, max) => storage.readFile(p, max),
    read: async (p, offset, length) => {
      const st = await storage.stat(p);
      if (st && !(offset >= 0 && length >= 0 && offset + length <= st.size)) report.problems.push(`${p}: asked to read ${length} bytes at ${offset}, past the end (${st.size} bytes)`);
      return storage.read(p, offset, length);
    },
  };
}

/** The rules every entry must keep; a description of the first one broken, or undefined. */
function checkEntry(e: ScannedEntry & { schema?: unknown }, withSchema = true): string | undefined {
  if (withSchema && !(e.schema && Array.isArray((e.schema as { fields?: unknown }).fields))) return 'no Arrow schema';
  if (!Number.isSafeInteger(e.rows) || e.rows < 0) return `an invalid row count (${e.rows})`;
  if (!Array.isArray(e.units)) return 'no units';
  let sum = 0;
  for (const u of e.units) {
    if (!Number.isSafeInteger(u.rows) || u.rows < 0) return `a unit with an invalid row count (${u.rows})`;
    if (!Number.isFinite(u.byteSize) || u.byteSize < 0) return `a unit with an invalid byte size (${u.byteSize})`;
    sum += u.rows;
  }
  if (sum !== e.rows) return `rows is ${e.rows} but the units add up to ${sum}`;
  if (e.liveRows !== undefined && (!Number.isSafeInteger(e.liveRows) || e.liveRows < 0 || e.liveRows > e.rows)) return `an invalid live row count (${e.liveRows} of ${e.rows})`;
  try {
    JSON.stringify(e.details ?? null);
    for (const u of e.units) JSON.stringify(u.details ?? null);
  } catch (err) {
    return `details that are not JSON-safe: ${(err as Error).message}`;
  }
  return undefined;
}

// Signatures are undefined when a probe cannot be written down (details that are not JSON-safe, a
// schema without a field list): checkEntry reports that already, and the check must not throw.
function signature(p: FileProbe): string | undefined {
  const { schema: _schema, ...rest } = p;
  return stringifyOrUndefined(() => ({ ...rest, fields: fieldsOf(p.schema).map((f) => `${f.name}:${String(f.type)}:${f.nullable}`) }));
}

function tableSignature(s: Awaited<ReturnType<TableScanner['snapshot']>>): string | undefined {
  return stringifyOrUndefined(() => ({ v: s.tableVersion, e: s.entries, d: s.details ?? null, fields: fieldsOf(s.schema).map((f) => `${f.name}:${String(f.type)}`) }));
}

function fieldsOf(schema: unknown): { name: string; type: unknown; nullable: boolean }[] {
  const fields = (schema as { fields?: unknown } | undefined)?.fields;
  return Array.isArray(fields) ? fields : [];
}

function stringifyOrUndefined(value: () => unknown): string | undefined {
  try {
    return JSON.stringify(value());
  } catch {
    return undefined;
  }
}

/** Two signatures that both exist and differ. */
function differ(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a !== b;
}

const TIMEOUT = Symbol('timeout');

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
