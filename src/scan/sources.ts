import { Schema } from 'apache-arrow';
import { listSourceFiles, scanFiles, checkEntry, sameScannerOptions } from './file-scan.js';
import { mergeFileSchemas } from '../manifest/schema-evolution.js';
import type { RefreshPlan } from '../engine/refresh.js';
import type { LocalStorage } from '../storage/local.js';
import type { JsonObject, Scanner, SnapshotContext, TableEntry, TableScanner } from '../scanner.js';
import type { Manifest, ManifestFile, ManifestSchema, SkippedFile } from '../types.js';

/** What a scan produced, whatever the scanner kind. */
export interface ScanOutcome {
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
export const LISTED = 3;
export const SCANNED = 95;

export async function scanFileSource(plan: RefreshPlan, storage: LocalStorage, previous: Manifest | undefined): Promise<ScanOutcome> {
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
  // One schema over all files: union by name with Iceberg's widenings (a conflicting file fails or is skipped).
  const merged = mergeFileSchemas({ files: res.files, schemaOf: (i) => res.schemaOf(i), fields: def.fields, skipInvalid: def.externalSpec.skip_invalid === true });
  if (merged.skipped.length > 0) for (const s of merged.skipped) job.note(s);
  return {
    files: merged.files,
    schema: merged.schema,
    schemaWhere: merged.schemaWhere,
    fileSchemas: res.fileSchemas,
    tableVersion: '',
    skipped: [...res.skipped, ...merged.skipped],
    warnings: res.warnings,
  };
}

export async function scanTableSource(
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

