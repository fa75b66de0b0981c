/**
 * One manifest fragment → one {@link TableEntry}. Counts come from the manifest; only where a writer
 * did not record them (or is known to have recorded them wrongly) is the smallest file read that
 * gives the exact figure: a data file's footer for physical rows, the deletion file for deletes.
 *
 * @module
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';
import type { JsonObject, SourceStorage, TableEntry } from '../../src/scanner.js';
import { readDataFileFooter } from './data-file.js';
import { countDeletedRows, deletionFilePath } from './deletions.js';
import type { LanceFragment } from './types.js';

/** How a fragment's counts were obtained. */
export interface FragmentReadPolicy {
  /**
   * True when the manifest's `physical_rows` / `num_deleted_rows` must not be trusted: Lance itself
   * recomputes them for manifests without a writer version (lancedb/lance#1531: a migration of
   * v0.7.5 datasets stored live rows as physical rows).
   */
  distrustCounts: boolean;
  /** The manifest path, for error messages. */
  manifestPath: string;
}

/**
 * The fragment's identity: id, data files and deletion file. Equal identities mean equal rows, so
 * an untouched fragment keeps its fingerprint (and segment ids) across versions, while a new
 * deletion file or a rewritten data file changes it.
 */
export function fragmentFingerprint(frag: LanceFragment): string {
  // Readable rather than hashed: data file names are already unique (uuids), and hashing 1,000
  // fragments cost more than the rest of a snapshot.
  const files = frag.files.map((f) => (f.baseId === undefined ? f.path : `${f.baseId}:${f.path}`)).join('|');
  const del = frag.deletionFile;
  const deletion = del ? `${del.fileType}:${del.readVersion}-${del.id}${del.baseId === undefined ? '' : `@${del.baseId}`}` : 'none';
  return `lance:${frag.id}:${files}:${deletion}`;
}

/** Builds the table entry of one fragment, reading data/deletion files only when the manifest lacks counts. */
export async function fragmentEntry(source: SourceStorage, frag: LanceFragment, policy: FragmentReadPolicy): Promise<TableEntry> {
  const first = frag.files[0];
  if (!first) throw corruptFile(policy.manifestPath, `fragment ${frag.id} has no data files`);
  const warnings: string[] = [];

  let physicalRows = policy.distrustCounts ? 0 : frag.physicalRows;
  let physicalFrom = 'manifest';
  const fileSizes = new Map<string, number>();
  if (physicalRows === 0) {
    const footer = await readDataFileFooter(source, dataFileLocation(frag.id, first.path, first.baseId));
    physicalRows = footer.rows;
    physicalFrom = 'data-file';
    fileSizes.set(first.path, footer.size);
    if (frag.physicalRows !== 0 && frag.physicalRows !== footer.rows) {
      warnings.push(
        `fragment ${frag.id}: the manifest records ${frag.physicalRows} physical rows but data/${first.path} holds ${footer.rows}; ` +
          'this writer is known to record wrong counts, so the data file is used',
      );
    }
  }

  let deletedRows = 0;
  let deletedFrom = 'none';
  if (frag.deletionFile) {
    const recorded = frag.deletionFile.numDeletedRows;
    if (recorded > 0 && !policy.distrustCounts) {
      deletedRows = recorded;
      deletedFrom = 'manifest';
    } else {
      deletedRows = await countDeletedRows(source, frag.id, frag.deletionFile);
      deletedFrom = 'deletion-file';
      if (recorded > 0 && recorded !== deletedRows) {
        warnings.push(`fragment ${frag.id}: the manifest records ${recorded} deleted rows but the deletion file holds ${deletedRows}; the deletion file is used`);
      }
    }
  }
  if (deletedRows > physicalRows) {
    throw corruptFile(policy.manifestPath, `fragment ${frag.id} deletes ${deletedRows} rows but has only ${physicalRows}`);
  }

  const dataFiles: JsonObject[] = [];
  let sizeBytes = 0;
  for (const file of frag.files) {
    let size = file.fileSizeBytes || fileSizes.get(file.path) || 0;
    if (size === 0 && file.baseId === undefined) size = (await source.stat(`data/${file.path}`))?.size ?? 0;
    sizeBytes += size;
    const df: JsonObject = {
      path: `data/${file.path}`,
      fields: file.fields,
      fileVersion: `${file.fileMajorVersion}.${file.fileMinorVersion}`,
      sizeBytes: size,
    };
    if (file.baseId !== undefined) df['baseId'] = file.baseId;
    dataFiles.push(df);
  }

  const del = frag.deletionFile;
  const fragmentId = jsonId(frag.id);
  const liveRows = physicalRows - deletedRows;
  const entry: TableEntry = {
    path: `data/${first.path}`,
    sizeBytes,
    fingerprint: fragmentFingerprint(frag),
    rows: physicalRows,
    liveRows,
    liveRowsExact: true,
    units: [{ rows: physicalRows, byteSize: sizeBytes, details: { fragmentId } }],
    details: {
      fragmentId,
      physicalRows,
      deletedRows,
      liveRows,
      dataFiles,
      deletionFile: del
        ? {
            path: deletionFilePath(frag.id, del),
            type: del.fileType,
            readVersion: del.readVersion,
            id: del.id,
            deletedRows,
            ...(del.baseId !== undefined ? { baseId: del.baseId } : {}),
          }
        : null,
      countsFrom: { physicalRows: physicalFrom, deletedRows: deletedFrom },
    },
  };
  if (warnings.length > 0) entry.warnings = warnings;
  return entry;
}

/** Path of a data file, refusing files kept under another base path (shallow clones, imports). */
function dataFileLocation(fragmentId: string, path: string, baseId: number | undefined): string {
  if (baseId !== undefined) {
    throw new LakemapError('UNSUPPORTED', `fragment ${fragmentId}: data file ${path} lives under another base path (base id ${baseId}) and its row count is not recorded`, { path });
  }
  return `data/${path}`;
}

/** A u64 id as a JSON number when exact, else as a string. */
function jsonId(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}
