/**
 * Attaches delete files to the data files they apply to, by the Iceberg spec's rules
 * ("Scan Planning"):
 * - a deletion vector (v3: position deletes in a Puffin file) applies to its `referenced_data_file` when
 *   that file's data sequence number is ≤ the vector's; it supersedes position delete files for that file;
 * - a position delete file applies to data files of the same partition (spec and values) with data
 *   sequence number ≤ its own, restricted to the one referenced data file when it names one;
 * - an equality delete file applies to data files with data sequence number < its own, of the same
 *   partition, or of any partition when the delete file's spec is unpartitioned.
 */
import { normalizeUri } from './paths.js';
import { CONTENT_EQUALITY_DELETES, type ContentFile } from './types.js';

/** How a delete file removes rows. */
export type DeleteKind = 'deletion-vector' | 'position' | 'equality';

/** One delete file (or deletion vector blob) that applies to a data file. */
export interface AttachedDelete {
  kind: DeleteKind;
  file: ContentFile;
  /** True when `file.recordCount` is exactly the number of this data file's rows it deletes. */
  countsExactly: boolean;
}

/** Kind of a delete file. */
export function deleteKind(f: ContentFile): DeleteKind {
  if (f.content === CONTENT_EQUALITY_DELETES) return 'equality';
  return f.fileFormat === 'PUFFIN' || f.contentOffset !== undefined ? 'deletion-vector' : 'position';
}

/** The deletes applying to each data file (absent key: no deletes). */
export function attachDeletes(dataFiles: ContentFile[], deleteFiles: ContentFile[]): Map<ContentFile, AttachedDelete[]> {
  const out = new Map<ContentFile, AttachedDelete[]>();
  if (deleteFiles.length === 0) return out;
  const byUri = new Map<string, ContentFile>();
  const byPartition = new Map<string, ContentFile[]>();
  for (const d of dataFiles) {
    byUri.set(normalizeUri(d.filePath), d);
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
      for (const d of targets) if (d.sequenceNumber < del.sequenceNumber) add(d, { kind, file: del, countsExactly: false });
      continue;
    }
    if (del.referencedDataFile !== undefined) {
      const d = byUri.get(normalizeUri(del.referencedDataFile));
      if (d && d.sequenceNumber <= del.sequenceNumber && (kind === 'deletion-vector' || d.partitionKey === del.partitionKey)) {
        add(d, { kind, file: del, countsExactly: true });
      }
      continue;
    }
    for (const d of byPartition.get(del.partitionKey) ?? []) {
      if (d.sequenceNumber <= del.sequenceNumber) add(d, { kind, file: del, countsExactly: false });
    }
  }

  // A deletion vector holds every position deleted so far: position delete files no longer apply.
  for (const [d, list] of out) {
    if (list.some((a) => a.kind === 'deletion-vector')) out.set(d, list.filter((a) => a.kind !== 'position'));
  }
  return out;
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
