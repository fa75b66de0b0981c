import { Schema } from 'apache-arrow';
import { scanFiles, checkEntry } from './file-scan.js';
import { LISTED, SCANNED, listFileSource, sameScannerOptions, type SourceListing } from './listing.js';
export { LISTED, SCANNED, listFileSource, type SourceListing } from './listing.js';
import { adoptSchema } from '../manifest/arrow-adopt.js';
import { mergeFileSchemas } from '../manifest/schema-evolution.js';
import { fileGlobs } from '../engine/definition.js';
import { LakemapError } from '../errors.js';
import type { RefreshPlan } from '../engine/refresh.js';
import { tableLocation } from '../storage/source.js';
import { checkTablePaths } from './table-paths.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { JsonObject, ScanContext, Scanner, SnapshotContext, TableEntry, TableScanner } from '../scanner.js';
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

export async function scanFileSource(plan: RefreshPlan, storage: ScanStorage, previous: Manifest | undefined, listing?: SourceListing): Promise<ScanOutcome> {
  const { job, definition: def } = plan;
  const scanner = plan.scanner as Extract<Scanner, { kind: 'file' }>;
  const ctx = { spec: def.externalSpec, signal: job.controller.signal };
  // Stats are only worth taking when a previous manifest may let files be reused.
  const reusable = previous !== undefined && previous.files.length > 0 && sameScannerOptions(previous.externalSpec, def.externalSpec);
  const { listed, warnings: listWarnings } = listing ?? (await listFileSource(plan, storage, reusable));
  const allowEmpty = def.externalSpec.allow_empty === true;
  if (listed.length === 0 && !allowEmpty) throw noFiles(storage, scanner.format, def.externalSpec, 'no files');
  job.setProgress(LISTED, 0, listed.length);
  const res = await scanFiles(storage, scanner, ctx, listed, previous, {
    progress: (done, total) => job.setProgress(LISTED + ((SCANNED - LISTED) * done) / Math.max(1, total), done, total),
    skipped: (s) => job.note(s),
  }, plan.concurrency, plan.workers);
  job.note(undefined, res.warnings);
  res.warnings.unshift(...listWarnings);

  if (res.files.length === 0) {
    if (!allowEmpty) throw noFiles(storage, scanner.format, def.externalSpec, `none of the ${listed.length} matching files could be mapped (all skipped as invalid)`);
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
  storage: ScanStorage,
  previous: Manifest | undefined,
): Promise<ScanOutcome> {
  const { job, definition: def } = plan;
  const sameFormat = previous !== undefined && previous.format === scanner.format;
  const { tablePath } = tableLocation(plan.source, scanner);
  const ctx: SnapshotContext = {
    ...(tablePath ? { tablePath } : {}),
    spec: def.externalSpec,
    signal: job.controller.signal,
    progress: (done, total) => job.setProgress(LISTED + ((SCANNED - LISTED) * done) / Math.max(1, total), done, total),
    ...(sameFormat ? { previous: { tableVersion: previous.tableVersion, entries: new Map(previous.files.map((f) => [f.fingerprint, toTableEntry(f)])) } } : {}),
  };
  const snap = await scanner.snapshot(storage, ctx);
  const skipped: SkippedFile[] = [];
  const entries = await checkTablePaths(storage, scanner.format, snap.entries, def.externalSpec.skip_invalid === true, (s) => {
    skipped.push(s);
    job.note(s);
  });
  const files = entries.map((e): ManifestFile => {
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
    schema: adoptSchema(snap.schema, storage.root), // the scanner may use another copy of apache-arrow
    schemaWhere: `${storage.root} (${scanner.format} version ${snap.tableVersion || 'none'})`,
    fileSchemas: [],
    tableVersion: snap.tableVersion,
    skipped,
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


/** `NO_FILES`: the source gave nothing to map, and the spec does not say that is fine. */
function noFiles(storage: ScanStorage, format: string, spec: ScanContext['spec'], what: string): LakemapError {
  const globs = fileGlobs(spec);
  const selection = globs ? `files ${JSON.stringify(globs.length === 1 ? globs[0] : globs)}` : `the ${format} default (any file ending ${format === 'parquet' ? '.parquet' : 'in its extension'})`;
  return new LakemapError(
    'NO_FILES',
    `${what} under ${storage.root} for ${selection}; the previous manifest is kept. Set "allow_empty": true in the spec if an empty source is expected`,
    { path: storage.root },
  );
}
