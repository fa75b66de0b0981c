/**
 * A refresh that builds the next chunked version from what changed alone.
 *
 * When the previous version is chunked and its file index carries the summary columns (rows, live
 * rows, segments and digest per file), a refresh whose listing differs from it in a few files does
 * not load the previous manifest: it probes the new and changed files, derives the totals, the
 * segment count, the files digest (hence the content hash) and the change set from the index's
 * columns plus the new entries, and commits a root that lists the previous chunks unchanged plus one
 * delta chunk (the new entries and the removed paths). The result is the same {@link Manifest} the
 * whole-manifest path builds (see `test/refresh-change.test.ts`).
 *
 * It declines (the caller takes the whole-manifest path) whenever that is not certain: another spec,
 * source, root or fields; `verify: "footer"`; warnings from the start; a listing not in path order;
 * more than one file schema before or after (schema evolution and `missingColumns` are whole-lake);
 * inexact totals; deltas over their budget (compaction rewrites base chunks); no file left unchanged.
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import { scanFiles } from '../scan/file-scan.js';
import { LISTED, SCANNED, type SourceListing } from '../scan/sources.js';
import { segmentMaxRows } from './definition.js';
import { digestProblems, madeOtherwise, type ChunkedIndex, type PreviousIndex } from '../manifest/file-index.js';
import { DEFAULT_MAX_DELTA_FRACTION, MAX_DELTAS, encodeChunk, readVerifiedChunk, ref, type ManifestRoot } from '../manifest/chunks.js';
import { fileChunkSource } from '../manifest/chunk-files.js';
import { contentHashOf, DigestSum, fileDigest } from '../manifest/digest.js';
import { segmentFile } from '../manifest/segments.js';
import { collectionSchema, encodeSchema, manifestArrowSchema } from '../manifest/schema.js';
import { mergeFileSchemas } from '../manifest/schema-evolution.js';
import type { RefreshPlan } from './refresh.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileStat, Scanner } from '../scanner.js';
import type { ManifestFile, RefreshChangeSet, Segment, SkippedFile } from '../types.js';

/** What a refresh from a change ended with. */
export interface ChangeOutcome {
  version: number;
  committed: boolean;
  changes: RefreshChangeSet;
}

const LIMIT = 100; // paths listed per kind in a change set, as diffChanges lists them

/**
 * Builds and commits the next version from the files that changed since `index`; undefined when
 * this refresh must take the whole-manifest path instead (nothing was noted on the job then).
 */
export async function refreshFromChange(plan: RefreshPlan, storage: ScanStorage, index: PreviousIndex, listing: SourceListing): Promise<ChangeOutcome | undefined> {
  const c = index.chunked;
  const def = plan.definition;
  const spec = def.externalSpec;
  if (!c || plan.scanner.kind !== 'file' || plan.warnings.length > 0 || spec.verify === 'footer') return undefined;
  const root = c.root;
  if (root.version !== plan.baseVersion || !root.pathOrdered || root.totalRowsExact !== true || root.tableVersion !== '' || root.details !== undefined) return undefined;
  if (madeOtherwise(root, def, storage.root) !== undefined) return undefined;
  if (root.collectionName !== def.collectionName || root.dbName !== def.dbName) return undefined;
  if (!Array.isArray(root.fileSchemas) || root.fileSchemas.length !== 1) return undefined;
  // The digests are what the new content hash is derived from: they must add up to the root's.
  if (digestProblems(c).length > 0) return undefined;

  const diff = compare(index, listing.listed);
  if (!diff) return undefined;
  const n = index.paths.length;
  const carried = n - diff.removed.length - diff.changed.size;
  if (carried <= 0) return undefined;
  const priorDelta = root.chunks.reduce((k, x) => k + (x.kind === 'delta' ? x.files + x.removed : 0), 0);
  const deltas = root.chunks.filter((x) => x.kind === 'delta').length;
  const estimate = n - diff.removed.length + diff.toProbe.length - diff.changed.size;
  if (deltas >= MAX_DELTAS || priorDelta + diff.toProbe.length + diff.removed.length > DEFAULT_MAX_DELTA_FRACTION * Math.max(1, estimate)) return undefined;

  // Probe the new and changed files (the whole-manifest path would probe exactly these).
  const { job } = plan;
  const total = listing.listed.length;
  const skippedNotes: SkippedFile[] = [];
  const res = await scanFiles(
    storage,
    plan.scanner as Extract<Scanner, { kind: 'file' }>,
    { spec, signal: job.controller.signal },
    diff.toProbe,
    undefined,
    {
      progress: (done) => job.setProgress(LISTED + ((SCANNED - LISTED) * (carried + done)) / Math.max(1, total), carried + done, total),
      skipped: (s) => skippedNotes.push(s),
    },
    plan.concurrency,
    plan.workers,
  );
  if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
  // One schema before and after, the same by the signature the scan deduplicates schemas with.
  const signature = JSON.stringify(root.fileSchemas[0]!.fields);
  if (res.fileSchemas.length > 1 || (res.fileSchemas.length === 1 && JSON.stringify(res.fileSchemas[0]!.fields) !== signature)) return undefined;

  // The previous entries of probed files whose fingerprint did not change keep their segments (as a
  // whole-manifest build carries them over); those few entries are read from their chunks, verified.
  const maxRows = segmentMaxRows(spec);
  const keepSegments = new Map<string, Segment[]>();
  const chunksToRead = new Set<number>();
  for (const f of res.files) {
    const i = diff.at.get(f.path);
    if (i !== undefined && c.fingerprints[i] === f.fingerprint) chunksToRead.add(c.chunkOf[i]!);
  }
  if (chunksToRead.size > 0) {
    const source = fileChunkSource(plan.versions.chunksDir);
    try {
      for (const k of chunksToRead) {
        for (const item of readVerifiedChunk(root.chunks[k]!.id, source).items) keepSegments.set(item.file.path, item.segments);
      }
    } catch {
      return undefined; // a damaged chunk: the whole-manifest path loads, validates and reports it
    }
  }

  // The new entries, their segments and digests; what they replace comes from the index's columns.
  const sum = new DigestSum(root.filesDigest);
  let totalRows = root.totalRows;
  let physicalRows = root.physicalRows;
  let exact = true;
  let segmentCount = root.segmentCount;
  const changes: RefreshChangeSet = {
    files: { added: 0, removed: 0, modified: 0, unchanged: carried },
    segments: { added: 0, removed: 0, kept: 0 },
    addedPaths: [],
    removedPaths: [],
    modifiedPaths: [],
  };
  let oldSegments = 0;
  const drop = (i: number): void => {
    sum.sub(c.digests[i]!);
    totalRows -= c.live[i]!;
    physicalRows -= c.rows[i]!;
    segmentCount -= c.segs[i]!;
    oldSegments += c.segs[i]!;
  };
  const files: ManifestFile[] = [];
  const segs: Segment[][] = [];
  const digests: string[] = [];
  const present = new Set<string>();
  for (const f of res.files) {
    present.add(f.path);
    const i = diff.at.get(f.path);
    let list: Segment[];
    if (i !== undefined) {
      drop(i);
      if (c.fingerprints[i] === f.fingerprint) {
        const kept = keepSegments.get(f.path);
        // An entry that disagrees with its index row (or a probe that disagrees with an equal
        // fingerprint) is left to the whole-manifest path, which validates everything it reuses.
        if (!kept || kept.length !== c.segs[i] || kept.reduce((r, s) => r + s.rows, 0) !== f.rows) return undefined;
        list = kept;
        changes.files.unchanged++;
        changes.segments.kept += kept.length;
        oldSegments -= kept.length;
      } else {
        list = segmentFile(f, maxRows);
        changes.files.modified++;
        if (changes.modifiedPaths.length < LIMIT) changes.modifiedPaths.push(f.path);
        changes.segments.added += list.length;
      }
    } else {
      list = segmentFile(f, maxRows);
      changes.files.added++;
      if (changes.addedPaths.length < LIMIT) changes.addedPaths.push(f.path);
      changes.segments.added += list.length;
    }
    const d = fileDigest(f, list.map((s) => s.id));
    sum.add(d);
    totalRows += f.liveRows;
    physicalRows += f.rows;
    exact &&= f.liveRowsExact;
    segmentCount += list.length;
    files.push(f);
    segs.push(list);
    digests.push(d);
  }
  // Removed: gone from the listing, or in the index and now skipped.
  const removedRows = [...diff.removed];
  for (const p of diff.changed.keys()) if (!present.has(p)) removedRows.push(diff.at.get(p)!);
  removedRows.sort((a, b) => a - b);
  for (const i of removedRows) {
    drop(i);
    changes.files.removed++;
    if (changes.removedPaths.length < LIMIT) changes.removedPaths.push(index.paths[i]!);
  }
  const fileCount = n - removedRows.length - (files.length - changes.files.added) + files.length;
  if (fileCount === 0) return undefined; // NO_FILES or an empty version: the whole-manifest path says which
  changes.segments.removed = oldSegments;
  changes.segments.kept += root.segmentCount - carriedSegmentsDropped(c, diff, removedRows);

  // The collection schema as the whole-manifest path computes it from the one file schema.
  const fileSchema = manifestArrowSchema({ schema: root.fileSchemas[0]! });
  const firstPath = index.paths[0]!;
  const merged = mergeFileSchemas({ files: [{ path: firstPath, schemaIndex: 0 } as ManifestFile], schemaOf: () => fileSchema, fields: def.fields, skipInvalid: spec.skip_invalid === true });
  const schema = encodeSchema(collectionSchema(merged.schema, def.fields, merged.schemaWhere));
  const warnings = [...listing.warnings, ...res.warnings];
  const header = {
    collectionName: def.collectionName,
    dbName: def.dbName,
    fields: def.fields,
    format: spec.format,
    externalSource: def.externalSource,
    resolvedSource: storage.root,
    externalSpec: spec,
    tableVersion: '',
    schema,
    fileSchemas: root.fileSchemas,
    totalRows,
    physicalRows,
    totalRowsExact: exact,
    skipped: res.skipped,
    warnings,
  };
  const filesDigest = sum.hex();
  const contentHash = contentHashOf(header, fileCount, filesDigest);
  for (const s of skippedNotes) job.note(s);
  job.note(undefined, res.warnings);
  if (contentHash === root.contentHash) return { version: root.version, committed: false, changes };

  const removedPaths = removedRows.map((i) => index.paths[i]!);
  const delta = files.length + removedPaths.length > 0 ? encodeChunk(files, segs, digests, removedPaths) : undefined;
  const next: ManifestRoot = {
    manifestFormat: 2,
    ...header,
    version: plan.baseVersion + 1,
    createdAt: Date.now(),
    jobId: job.jobId,
    contentHash,
    fileCount,
    segmentCount,
    chunkFiles: root.chunkFiles,
    pathOrdered: true,
    filesDigest,
    chunks: delta ? [...root.chunks, ref(delta, 'delta', files.length, removedPaths.length)] : root.chunks,
  };
  job.setProgress(SCANNED + 2);
  await plan.versions.commitRoot(
    next,
    delta ? [delta] : [],
    { version: plan.baseVersion, incarnation: def.incarnation ?? '', currentIncarnation: plan.currentIncarnation, lockHeld: () => plan.lock.stillHeld() },
    plan.keepVersions,
  );
  return { version: next.version, committed: true, changes };
}

/** Segments of the previous version that belonged to files now changed or removed. */
function carriedSegmentsDropped(c: ChunkedIndex, diff: ListingDiff, removedRows: number[]): number {
  let k = 0;
  const counted = new Set<number>();
  for (const i of diff.changed.values()) (counted.add(i), (k += c.segs[i]!));
  for (const i of removedRows) if (!counted.has(i)) k += c.segs[i]!;
  return k;
}

interface ListingDiff {
  /** Listed files that are new or whose size, mtime or ETag differ, in listing (path) order. */
  toProbe: FileStat[];
  /** Index rows of files changed (path → row). */
  changed: Map<string, number>;
  /** Index rows of files no longer listed, ascending. */
  removed: number[];
  /** Index row of every path probed that the index holds. */
  at: Map<string, number>;
}

/** The listing against the index, both in path order; undefined when the listing is not in path order. */
function compare(index: PreviousIndex, listed: readonly FileStat[]): ListingDiff | undefined {
  const out: ListingDiff = { toProbe: [], changed: new Map(), removed: [], at: new Map() };
  const { paths, sizes, mtimes } = index;
  let i = 0;
  for (let j = 0; j < listed.length; j++) {
    const s = listed[j]!;
    if (j > 0 && !(listed[j - 1]!.path < s.path)) return undefined;
    while (i < paths.length && paths[i]! < s.path) out.removed.push(i++);
    if (i < paths.length && paths[i] === s.path) {
      // The index holds no ETags: a listed ETag is a change, as in the no-change check.
      if (s.size < 0 || s.size !== sizes[i] || s.mtimeMs !== mtimes[i] || s.etag !== undefined) {
        out.toProbe.push(s);
        out.changed.set(s.path, i);
        out.at.set(s.path, i);
      }
      i++;
    } else out.toProbe.push(s);
  }
  while (i < paths.length) out.removed.push(i++);
  return out;
}
