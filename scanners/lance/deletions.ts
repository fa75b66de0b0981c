/**
 * Deletion files: where they live and, for manifests that did not record `num_deleted_rows`, how
 * many rows they delete. `.arrow` files are an Arrow IPC file with one column of deleted row
 * offsets; `.bin` files are a roaring bitmap of them (`rust/lance-table/src/io/deletion.rs`).
 *
 * @module
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';
import type { SourceStorage } from '../../src/scanner.js';
import { arrowIpcRowCount } from './deletion-arrow.js';
import { roaringCardinality } from './roaring.js';
import type { LanceDeletionFile } from './types.js';

/** Deletion files larger than this are refused rather than read (a bitmap of 2^32 rows is 512 MiB). */
const MAX_DELETION_FILE_BYTES = 256 * 1024 * 1024;

/** Path of a fragment's deletion file relative to the dataset root. */
export function deletionFilePath(fragmentId: string, del: LanceDeletionFile): string {
  const ext = del.fileType === 'bitmap' ? 'bin' : 'arrow';
  return `_deletions/${fragmentId}-${del.readVersion}-${del.id}.${ext}`;
}

/** Reads a deletion file and returns the number of rows it deletes (Lance writes each row once). */
export async function countDeletedRows(source: SourceStorage, fragmentId: string, del: LanceDeletionFile): Promise<number> {
  const path = deletionFilePath(fragmentId, del);
  if (del.baseId !== undefined) {
    throw new LakemapError('UNSUPPORTED', `${path}: deletion file lives under another base path (base id ${del.baseId}) and records no row count`, { path });
  }
  const bytes = await source.readFile(path, MAX_DELETION_FILE_BYTES);
  try {
    return del.fileType === 'bitmap' ? roaringCardinality(bytes) : arrowIpcRowCount(bytes);
  } catch (e) {
    throw corruptFile(path, `unreadable deletion file: ${(e as Error).message}`, e);
  }
}
