/**
 * Attaches delete files to the data files they apply to, by the Iceberg spec's rules
 * ("Scan Planning"):
 * - a deletion vector (v3: position deletes in a Puffin file) applies to its `referenced_data_file` when
 *   that file's data sequence number is ≤ the vector's; it supersedes position delete files for that file;
 * - a position delete file applies to data files of the same partition (spec and values) with data
 *   sequence number ≤ its own whose path its `file_path` column holds. What pins it to one data file, so
 *   that its record count is exactly that file's deleted rows: `referenced_data_file` (v3), else its own
 *   parquet footer's `file_path` statistics with min = max. Manifest bounds on `file_path` are only a hint
 *   (tools that move tables rewrite them; writers truncate them): a delete file pinned by nothing makes the
 *   live rows of the files it may touch upper bounds, with a warning, and is never subtracted;
 * - an equality delete file applies to data files with data sequence number < its own, of the same
 *   partition, or of any partition when the delete file's spec is unpartitioned.
 */
import { normalizeUri } from './paths.js';
import { CONTENT_EQUALITY_DELETES, type ContentFile } from './types.js';

/** How a delete file removes rows. */
export type DeleteKind = 'deletion-vector' | 'position' | 'equality';

/** What ties a delete file to the data files it is attached to. */
export type DeletePin = 'referenced_data_file' | 'footer' | 'footer-range' | 'bounds-hint' | 'partition';

/** One delete file (or deletion vector blob) that applies to a data file. */
export interface AttachedDelete {
  kind: DeleteKind;
  file: ContentFile;
  /** True when `file.recordCount` is exactly the number of this data file's rows it deletes. */
  countsExactly: boolean;
  /** How it was tied to this data file. */
  pin: DeletePin;
}

/** Kind of a delete file. */
export function deleteKind(f: ContentFile): DeleteKind {
  if (f.content === CONTENT_EQUALITY_DELETES) return 'equality';
  return f.fileFormat === 'PUFFIN' || f.contentOffset !== undefined ? 'deletion-vector' : 'position';
}

/** The deletes applying to each data file (absent key: no deletes), and what a person should know. */
export function attachDeletes(dataFiles: ContentFile[], deleteFiles: ContentFile[]): { attached: Map<ContentFile, AttachedDelete[]>; warnings: string[] } {
  const out = new Map<ContentFile, AttachedDelete[]>();
  const warnings: string[] = [];
  if (deleteFiles.length === 0) return { attached: out, warnings };
  const byUri = new Map<string, ContentFile>();
  const byPartition = new Map<string, ContentFile[]>();
  for (const d of dataFiles) {
    byUri.set(d.uri ?? normalizeUri(d.filePath), d);
    const list = byPartition.get(d.partitionKey);
    if (list) list.push(d);
    else byPartition.set(d.partitionKey, [d]);
  }
  const add = (d: ContentFile, a: AttachedDelete) => {
    const list = out.get(d);
    if (list) list.push(a);
    else out.set(d, [a]);
  };

  for (const del of deleteFiles) {
    const kind = deleteKind(del);
    if (kind === 'equality') {
      const targets = del.partitionKey === 'unpartitioned' ? dataFiles : byPartition.get(del.partitionKey) ?? [];
      for (const d of targets) if (d.sequenceNumber < del.sequenceNumber) add(d, { kind, file: del, countsExactly: false, pin: 'partition' });
      continue;
    }
    const applies = (d: ContentFile) => d.sequenceNumber <= del.sequenceNumber && (kind === 'deletion-vector' || d.partitionKey === del.partitionKey);
    const pinned = del.referencedDataFile ?? (del.footerTarget?.kind === 'one' ? del.footerTarget.dataFile : undefined);
    if (pinned !== undefined) {
      const d = byUri.get(normalizeUri(pinned));
      if (d && applies(d)) add(d, { kind, file: del, countsExactly: true, pin: del.referencedDataFile !== undefined ? 'referenced_data_file' : 'footer' });
      else if (!d && del.referencedDataFile === undefined) {
        warnings.push(`position delete file ${del.path}: its file_path column names only ${pinned} (footer statistics), which is not a data file of this snapshot; it deletes nothing here`);
      }
      continue;
    }
    const candidates = (byPartition.get(del.partitionKey) ?? []).filter(applies);
    const target = del.footerTarget;
    if (target?.kind === 'several') {
      // Several data files: each one's share of the record count is unknown, so nothing is subtracted.
      const inRange = candidates.filter((d) => normalizeUri(d.filePath) >= normalizeUri(target.min) && normalizeUri(d.filePath) <= normalizeUri(target.max));
      for (const d of inRange) add(d, { kind, file: del, countsExactly: false, pin: 'footer-range' });
      if (inRange.length > 0) warnings.push(`position delete file ${del.path} holds deletes for several data files (file_path ${target.min} … ${target.max}); the live rows of the ${inRange.length} it may touch are upper bounds`);
      continue;
    }
    const why = target?.kind === 'unknown' ? target.reason : 'its footer was not read';
    const hinted = del.boundsHint !== undefined ? candidates.find((d) => normalizeUri(d.filePath) === normalizeUri(del.boundsHint!)) : undefined;
    const touched = hinted ? [hinted] : candidates;
    for (const d of touched) add(d, { kind, file: del, countsExactly: false, pin: hinted ? 'bounds-hint' : 'partition' });
    if (touched.length > 0) {
      warnings.push(
        `nothing pins position delete file ${del.path} to one data file (no referenced_data_file; ${why})` +
          (hinted ? `; its manifest bounds name ${del.boundsHint}, a hint only` : '') +
          `: its ${del.recordCount} deletes are not subtracted, and the live rows of ${touched.length === 1 ? touched[0]!.path : `${touched.length} data files`} are upper bounds`,
      );
    }
  }

  // A deletion vector holds every position deleted so far: position delete files no longer apply.
  for (const [d, list] of out) {
    if (list.some((a) => a.kind === 'deletion-vector')) out.set(d, list.filter((a) => a.kind !== 'position'));
  }
  return { attached: out, warnings };
}

/**
 * Live rows of a data file after `deletes`: exact when at most one delete applies and it counts exactly
 * (a deletion vector's cardinality, or a position delete file referencing only this file); otherwise an
 * upper bound (rows minus the largest exact count, since overlapping deletes cannot be ruled out).
 */
export function liveRowsOf(rows: number, deletes: AttachedDelete[]): { liveRows: number; exact: boolean } {
  if (deletes.length === 0) return { liveRows: rows, exact: true };
  let largest = 0;
  for (const a of deletes) if (a.countsExactly) largest = Math.max(largest, a.file.recordCount);
  const liveRows = Math.max(0, rows - largest);
  return { liveRows, exact: deletes.length === 1 && deletes[0]!.countsExactly };
}
