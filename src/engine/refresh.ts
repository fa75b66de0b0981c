import { createHash } from 'node:crypto';
import { Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import { segmentMaxRows } from './definition.js';
import { listSourceFiles, scanFiles, checkEntry, asLakemapError, sameScannerOptions, type ProbeWorkers } from '../scan/file-scan.js';
import type { RefreshJob } from './jobs.js';
import type { ManifestStore, StoredCollection } from '../manifest/store.js';
import { checkAgreement, collectionSchema, encodeSchema } from '../manifest/schema.js';
import { segmentFile } from '../manifest/segments.js';
import { openSource, type SourceLocation } from '../storage/source.js';
import type { LocalStorage } from '../storage/local.js';
import type { JsonObject, Scanner, SnapshotContext, TableEntry, TableScanner } from '../scanner.js';
import type { Manifest, ManifestFile, ManifestSchema, RefreshChangeSet, Segment, SkippedFile } from '../types.js';

/** Everything one refresh needs, decided before the job starts. */
export interface RefreshPlan {
  job: RefreshJob;
  definition: StoredCollection;
  source: SourceLocation;
  scanner: Scanner;
  store: ManifestStore;
  keepVersions: number;
  concurrency: number;
  /** Worker threads for probing, when available. */
  workers?: ProbeWorkers;
  /** Called once after a commit so the engine can cache the new manifest. */
  onCommit?(manifest: Manifest): void;
  /** The previous manifest if the engine has it cached. */
  cachedPrevious?: Manifest;
}

/** What a scan produced, whatever the scanner kind. */
interface ScanOutcome {
  files: ManifestFile[];
  schema: Schema;
  schemaWhere: string;
  fileSchemas: ManifestSchema[];
  tableVersion: string;
  skipped: SkippedFile[];
  warnings: string[];
  details?: JsonObject;
}

// Progress budget: listing up to LISTED, scanning up to SCANNED, then building and committing.
const LISTED = 3;
const SCANNED = 95;

/** Runs a refresh job to its end; never throws (failures become the job's reason). */
export async function runRefresh(plan: RefreshPlan): Promise<void> {
  const { job, definition: def, store } = plan;
  let unlock: (() => void) | undefined;
  try {
    if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled before it started');
    job.start();
    unlock = store.lock(def.dbName, def.collectionName, job.jobId);
    const storage = openSource(plan.source);
    const spec = def.externalSpec;
    plan.scanner.validateSpec?.(spec);
    const previous = plan.cachedPrevious ?? readPrevious(store, def);
    const outcome =
      plan.scanner.kind === 'file'
        ? await scanFileSource(plan, storage, previous)
        : await scanTableSource(plan, plan.scanner, storage, previous);
    if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');

    const manifest = buildManifest(plan, storage, outcome, previous);
    const changes = diff(previous, manifest);
    if (previous && previous.contentHash === manifest.contentHash) {
      job.complete(previous.version, false, changes);
      return;
    }
    job.setProgress(SCANNED + 2);
    store.commit(manifest, plan.keepVersions);
    plan.onCommit?.(manifest);
    job.complete(manifest.version, true, changes);
  } catch (err) {
    const e = LakemapError.is(err) ? err : asLakemapError(plan.scanner.format, plan.source.root, err);
    job.fail(e.code, e.message);
  } finally {
    unlock?.();
  }
}

function readPrevious(store: ManifestStore, def: StoredCollection): Manifest | undefined {
  if (store.currentVersion(def.dbName, def.collectionName) === 0) return undefined;
  return store.read(def.dbName, def.collectionName);
}

async function scanFileSource(plan: RefreshPlan, storage: LocalStorage, previous: Manifest | undefined): Promise<ScanOutcome> {
  const { job, definition: def } = plan;
  const scanner = plan.scanner as Extract<Scanner, { kind: 'file' }>;
  const ctx = { spec: def.externalSpec, signal: job.controller.signal };
  // Stats are only worth taking when a previous manifest may let files be reused.
  const reusable = previous !== undefined && previous.files.length > 0 && sameScannerOptions(previous.externalSpec, def.externalSpec);
  const listed = listSourceFiles(storage, scanner, def.externalSpec, reusable);
  job.setProgress(LISTED, 0, listed.length);
  const res = await scanFiles(storage, scanner, ctx, listed, previous, {
    progress: (done, total) => job.setProgress(LISTED + ((SCANNED - LISTED) * done) / Math.max(1, total), done, total),
    skipped: (s) => job.note(s),
  }, plan.concurrency, plan.workers);
  job.note(undefined, res.warnings);

  if (res.files.length === 0) {
    const warnings = [...res.warnings, `no ${scanner.format} files found under ${storage.root}`];
    return { files: [], schema: new Schema([]), schemaWhere: storage.root, fileSchemas: [], tableVersion: '', skipped: res.skipped, warnings };
  }
  // The first file (path order) is the reference; every other distinct schema must agree with it.
  const ref = res.files[0]!;
  const firstWith = new Map<number, string>();
  for (const f of res.files) if (!firstWith.has(f.schemaIndex)) firstWith.set(f.schemaIndex, f.path);
  for (const [idx, path] of firstWith) {
    if (idx === ref.schemaIndex) continue;
    checkAgreement(res.fileSchemas[ref.schemaIndex]!.fields, ref.path, res.fileSchemas[idx]!.fields, path, def.fields);
  }
  return {
    files: res.files,
    schema: res.schemaOf(ref.schemaIndex),
    schemaWhere: ref.path,
    fileSchemas: res.fileSchemas,
    tableVersion: '',
    skipped: res.skipped,
    warnings: res.warnings,
  };
}

async function scanTableSource(
  plan: RefreshPlan,
  scanner: TableScanner,
  storage: LocalStorage,
  previous: Manifest | undefined,
): Promise<ScanOutcome> {
  const { job, definition: def } = plan;
  const sameFormat = previous !== undefined && previous.format === scanner.format;
  const ctx: SnapshotContext = {
    spec: def.externalSpec,
    signal: job.controller.signal,
    progress: (done, total) => job.setProgress(LISTED + ((SCANNED - LISTED) * done) / Math.max(1, total), done, total),
    ...(sameFormat ? { previous: { tableVersion: previous.tableVersion, entries: new Map(previous.files.map((f) => [f.fingerprint, toTableEntry(f)])) } } : {}),
  };
  const snap = await scanner.snapshot(storage, ctx);
  const files = snap.entries.map((e): ManifestFile => {
    const units = checkEntry(scanner.format, e.path, e);
    const f: ManifestFile = {
      path: e.path,
      sizeBytes: e.sizeBytes,
      mtimeMs: e.mtimeMs ?? 0,
      fingerprint: e.fingerprint,
      rows: e.rows,
      liveRows: e.liveRows ?? e.rows,
      liveRowsExact: e.liveRowsExact ?? true,
      schemaIndex: -1,
      units,
    };
    if (e.details) f.details = e.details;
    return f;
  });
  const warnings = snap.warnings ?? [];
  job.note(undefined, warnings);
  const out: ScanOutcome = {
    files,
    schema: snap.schema,
    schemaWhere: `${storage.root} (${scanner.format} version ${snap.tableVersion || 'none'})`,
    fileSchemas: [],
    tableVersion: snap.tableVersion,
    skipped: [],
    warnings,
  };
  if (snap.details) out.details = snap.details;
  return out;
}

function toTableEntry(f: ManifestFile): TableEntry {
  const e: TableEntry = {
    path: f.path,
    sizeBytes: f.sizeBytes,
    mtimeMs: f.mtimeMs,
    fingerprint: f.fingerprint,
    rows: f.rows,
    liveRows: f.liveRows,
    liveRowsExact: f.liveRowsExact,
    units: f.units.map((u) => (u.details ? { rows: u.rows, byteSize: u.byteSize, details: u.details } : { rows: u.rows, byteSize: u.byteSize })),
  };
  if (f.details) e.details = f.details;
  return e;
}

function buildManifest(plan: RefreshPlan, storage: LocalStorage, o: ScanOutcome, previous: Manifest | undefined): Manifest {
  const def = plan.definition;
  const schema = collectionSchema(o.schema, def.fields, o.schemaWhere);
  const maxRows = segmentMaxRows(def.externalSpec);
  // Segments of a file unchanged since the previous version are carried over rather than recomputed.
  const reuse = new Map<string, Segment[]>();
  if (previous && segmentMaxRows(previous.externalSpec) === maxRows) {
    for (const s of previous.segments) {
      const path = s.ranges[0]!.path;
      const list = reuse.get(path);
      if (list) list.push(s);
      else reuse.set(path, [s]);
    }
  }
  const prevFingerprint = new Map(previous?.files.map((f) => [f.path, f.fingerprint]));
  const segments: Segment[] = [];
  let totalRows = 0;
  let physicalRows = 0;
  let exact = true;
  for (const f of o.files) {
    const carried = prevFingerprint.get(f.path) === f.fingerprint ? reuse.get(f.path) : undefined;
    segments.push(...(carried ?? segmentFile(f, maxRows)));
    totalRows += f.liveRows;
    physicalRows += f.rows;
    exact &&= f.liveRowsExact;
  }
  const base = {
    manifestFormat: 1 as const,
    collectionName: def.collectionName,
    dbName: def.dbName,
    fields: def.fields,
    format: def.externalSpec.format,
    externalSource: def.externalSource,
    resolvedSource: storage.root,
    externalSpec: def.externalSpec,
    tableVersion: o.tableVersion,
    schema: encodeSchema(schema),
    fileSchemas: o.fileSchemas,
    totalRows,
    physicalRows,
    totalRowsExact: exact,
    files: o.files,
    segments,
    skipped: o.skipped,
    warnings: o.warnings,
    ...(o.details ? { details: o.details } : {}),
  };
  return {
    ...base,
    version: (previous?.version ?? 0) + 1,
    createdAt: Date.now(),
    jobId: plan.job.jobId,
    contentHash: contentHash(base),
  };
}

/** Digest of what a manifest says (not when or by whom it was written). */
function contentHash(m: Omit<Manifest, 'version' | 'createdAt' | 'jobId' | 'contentHash'>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([m.format, m.externalSource, m.resolvedSource, m.externalSpec, m.fields, m.tableVersion]));
  h.update(m.schema.arrowIpc);
  h.update(JSON.stringify(m.skipped));
  h.update(JSON.stringify(m.details ?? null));
  for (const f of m.files) h.update(`${f.path}\0${f.fingerprint}\0${f.sizeBytes}\0${f.mtimeMs}\0${f.rows}\0${f.liveRows}\n`);
  for (const s of m.segments) h.update(`${s.id}\n`);
  return h.digest('hex');
}

function diff(previous: Manifest | undefined, next: Manifest): RefreshChangeSet {
  const prev = new Map(previous?.files.map((f) => [f.path, f.fingerprint]));
  const change: RefreshChangeSet = {
    files: { added: 0, removed: 0, modified: 0, unchanged: 0 },
    segments: { added: 0, removed: 0, kept: 0 },
    addedPaths: [],
    removedPaths: [],
    modifiedPaths: [],
  };
  const LIMIT = 100;
  const seen = new Set<string>();
  for (const f of next.files) {
    seen.add(f.path);
    const fp = prev.get(f.path);
    if (fp === undefined) {
      change.files.added++;
      if (change.addedPaths.length < LIMIT) change.addedPaths.push(f.path);
    } else if (fp !== f.fingerprint) {
      change.files.modified++;
      if (change.modifiedPaths.length < LIMIT) change.modifiedPaths.push(f.path);
    } else change.files.unchanged++;
  }
  for (const p of prev.keys()) {
    if (seen.has(p)) continue;
    change.files.removed++;
    if (change.removedPaths.length < LIMIT) change.removedPaths.push(p);
  }
  const prevSegs = new Set(previous?.segments.map((s) => s.id));
  const nextSegs = new Set(next.segments.map((s) => s.id));
  for (const id of nextSegs) if (prevSegs.has(id)) change.segments.kept++;
  else change.segments.added++;
  for (const id of prevSegs) if (!nextSegs.has(id)) change.segments.removed++;
  return change;
}
