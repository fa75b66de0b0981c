/**
 * Plain-data shapes of the Lance table format as the scanner reads them: the decoded manifest and
 * its fragments, data files and deletion files (`protos/table.proto`, `protos/file.proto` of Lance).
 * Only the fields the scanner uses are kept. 64-bit ids that can exceed 2^53 are strings.
 *
 * @module
 */

/** One `lance.file.Field` of the manifest schema (fields are listed flat, parents before children). */
export interface LanceField {
  /** Column name. */
  name: string;
  /** Field id, unique in a healthy schema (old writers repeated ids after add/drop columns). */
  id: number;
  /** Id of the parent field, -1 for a top-level column. */
  parentId: number;
  /** Lance logical type string, e.g. `int64`, `fixed_size_list:float:128`, `struct`, `list`. */
  logicalType: string;
  /** Whether nulls are allowed. */
  nullable: boolean;
  /** Field metadata (values decoded as UTF-8). */
  metadata: Record<string, string>;
  /** Deprecated extension-type name of old writers, `''` when absent. */
  extensionName: string;
}

/** One `DataFile` of a fragment: a `.lance` file holding some of the fragment's columns. */
export interface LanceDataFile {
  /** Path relative to the dataset's `data/` directory. */
  path: string;
  /** Field ids stored in the file (-2 marks a tombstoned field). */
  fields: number[];
  /** File format major version; 0 with minor 0 means a legacy (v0.1/v0.2) file. */
  fileMajorVersion: number;
  /** File format minor version. */
  fileMinorVersion: number;
  /** Size in bytes as recorded; 0 means unknown (old writers). */
  fileSizeBytes: number;
  /** Index into the manifest's base paths when the file lives outside the dataset, else undefined. */
  baseId?: number;
}

/** Kind of a deletion file: an Arrow IPC array of row offsets, or a roaring bitmap. */
export type DeletionFileType = 'arrow' | 'bitmap';

/** A fragment's `DeletionFile`: which of its rows are deleted. */
export interface LanceDeletionFile {
  /** `arrow` (`.arrow`, sparse deletes) or `bitmap` (`.bin`, dense deletes). */
  fileType: DeletionFileType;
  /** Dataset version the deletion file was written against. */
  readVersion: string;
  /** Opaque random u64 distinguishing concurrent writers, as a decimal string. */
  id: string;
  /** Deleted rows as recorded; 0 means not recorded (old writers). */
  numDeletedRows: number;
  /** Index into the manifest's base paths when the file lives outside the dataset, else undefined. */
  baseId?: number;
}

/** One `DataFragment`: a horizontal slice of the table, possibly spread over several data files. */
export interface LanceFragment {
  /** Fragment id (u64), as a decimal string. */
  id: string;
  /** Data files, each holding some columns of the same rows. */
  files: LanceDataFile[];
  /** Deletion file, or null when no row of the fragment is deleted. */
  deletionFile: LanceDeletionFile | null;
  /** Physical rows as recorded; 0 means not recorded (old writers). */
  physicalRows: number;
}

/** Library and version that wrote a manifest; absent in manifests of Lance before 0.8.1. */
export interface LanceWriterVersion {
  /** Library name, `lance` for the Lance library itself. */
  library: string;
  /** Version string, e.g. `0.36.0`. */
  version: string;
}

/** The decoded `lance.table.Manifest` of one dataset version. */
export interface LanceManifest {
  /** Dataset version number. */
  version: number;
  /** Schema fields, flat, in pre-order. */
  fields: LanceField[];
  /** Schema metadata (values decoded as UTF-8). */
  schemaMetadata: Record<string, string>;
  /** Fragments in row order. */
  fragments: LanceFragment[];
  /** Writer library and version, or null for writers that did not record it. */
  writerVersion: LanceWriterVersion | null;
  /** Commit time as epoch milliseconds, or null when absent. */
  timestampMs: number | null;
  /** Feature flags a reader must understand. */
  readerFeatureFlags: number;
  /** `file_format` / `version` of the data files, or null for old writers. */
  dataFormat: { fileFormat: string; version: string } | null;
  /** Optional version tag. */
  tag: string;
  /** Branch name, or null for the main branch. */
  branch: string | null;
  /** Transaction file name under `_transactions/`, `''` when none. */
  transactionFile: string;
  /** Number of base paths declared (data files may reference them through `baseId`). */
  basePathCount: number;
}
