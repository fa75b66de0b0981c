import { segmentMaxRows } from '../engine/definition.js';
import { collectionSchema, encodeSchema } from './schema.js';
import { segmentFile } from './segments.js';
import { contentHashOf, manifestDigests } from './digest.js';
import type { RefreshPlan } from '../engine/refresh.js';
import type { ScanOutcome } from '../scan/sources.js';
import type { SourceStorage } from '../scanner.js';
import type { Manifest, RefreshChangeSet, Segment } from '../types.js';

/** The next manifest version from a scan's outcome; segments of unchanged files are carried over from `previous`. */
export function buildManifest(plan: RefreshPlan, storage: SourceStorage, o: ScanOutcome, previous: Manifest | undefined): Manifest {
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
  const prevFingerprint = new Map<string, string>();
  if (previous) for (const f of previous.files) prevFingerprint.set(f.path, f.fingerprint);
  const segments: Segment[] = [];
  let totalRows = 0;
  let physicalRows = 0;
  let exact = true;
  const perFile = new Array<Segment[]>(o.files.length);
  for (let k = 0; k < o.files.length; k++) {
    const f = o.files[k]!;
    const carried = prevFingerprint.get(f.path) === f.fingerprint ? reuse.get(f.path) : undefined;
    const list = carried ?? segmentFile(f, maxRows);
    perFile[k] = list;
    for (let i = 0; i < list.length; i++) segments.push(list[i]!);
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
    contentHash: contentHashOf(base, o.files.length, manifestDigests(base, undefined, perFile).sum),
  };
}

/** What changed between two manifest versions, as a job reports it. */
export function diffChanges(previous: Manifest | undefined, next: Manifest): RefreshChangeSet {
  const change: RefreshChangeSet = {
    files: { added: 0, removed: 0, modified: 0, unchanged: 0 },
    segments: { added: 0, removed: 0, kept: 0 },
    addedPaths: [],
    removedPaths: [],
    modifiedPaths: [],
  };
  const LIMIT = 100;
  if (!previous) {
    // A first version: everything is added (no maps of the previous version to build).
    change.files.added = next.files.length;
    for (let i = 0; i < next.files.length && i < LIMIT; i++) change.addedPaths.push(next.files[i]!.path);
    change.segments.added = distinctIds(next).size;
    return change;
  }
  // Paths still unmatched after the walk over the next files are the removed ones.
  const prev = new Map<string, string>();
  for (const f of previous.files) prev.set(f.path, f.fingerprint);
  for (const f of next.files) {
    const fp = prev.get(f.path);
    if (fp === undefined) {
      change.files.added++;
      if (change.addedPaths.length < LIMIT) change.addedPaths.push(f.path);
      continue;
    }
    prev.delete(f.path);
    if (fp !== f.fingerprint) {
      change.files.modified++;
      if (change.modifiedPaths.length < LIMIT) change.modifiedPaths.push(f.path);
    } else change.files.unchanged++;
  }
  for (const p of prev.keys()) {
    change.files.removed++;
    if (change.removedPaths.length < LIMIT) change.removedPaths.push(p);
  }
  const prevSegs = distinctIds(previous);
  const nextSegs = distinctIds(next);
  for (const id of nextSegs) if (prevSegs.has(id)) change.segments.kept++;
  else change.segments.added++;
  change.segments.removed = prevSegs.size - change.segments.kept;
  return change;
}

function distinctIds(m: Manifest): Set<string> {
  const ids = new Set<string>();
  for (const s of m.segments) ids.add(s.id);
  return ids;
}
