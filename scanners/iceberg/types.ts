/** Iceberg domain types shared by the modules of this scanner (one types file, as in hyparquet). */

/** An Iceberg type as written in table metadata JSON. */
export type IcebergType = string | IcebergStructType | IcebergListType | IcebergMapType;

/** A struct field of an Iceberg schema. */
export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
  /** v3 default for rows written before the field existed. */
  'initial-default'?: unknown;
  'write-default'?: unknown;
}

/** `struct` type (also the shape of a schema). */
export interface IcebergStructType {
  type: 'struct';
  fields: IcebergField[];
}

/** `list` type. */
export interface IcebergListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

/** `map` type. */
export interface IcebergMapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

/** A table schema. */
export interface IcebergSchema extends IcebergStructType {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

/** One field of a partition spec. */
export interface PartitionField {
  name: string;
  transform: string;
  'source-id': number;
  'field-id'?: number;
}

/** A partition spec. */
export interface PartitionSpec {
  specId: number;
  fields: PartitionField[];
}

/** A snapshot of the table. */
export interface Snapshot {
  id: bigint;
  parentId?: bigint;
  /** 0 for v1 tables. */
  sequenceNumber: bigint;
  timestampMs: number;
  /** Manifest list path as written (absolute URI). */
  manifestList?: string;
  /** v1 alternative to a manifest list: manifest paths inline. */
  manifests?: string[];
  schemaId?: number;
  summary: Record<string, string>;
}

/** The parts of a table metadata file the scanner uses. */
export interface TableMetadata {
  formatVersion: number;
  tableUuid?: string;
  /** Table location as written by the writer (often on another machine). */
  location: string;
  schemas: Map<number, IcebergSchema>;
  currentSchemaId: number;
  specs: Map<number, PartitionSpec>;
  snapshots: Snapshot[];
  currentSnapshotId?: bigint;
  snapshotLog: { snapshotId: bigint; timestampMs: number }[];
  /** Named references (`refs`: branches and tags) → the snapshot each points at; `main` is the current one. */
  refs: Map<string, { snapshotId: bigint; type: 'branch' | 'tag' }>;
  properties: Record<string, string>;
  /** `last-updated-ms`, 0 when absent. */
  lastUpdatedMs: number;
}

/** Content kinds of a data file entry in a manifest. */
export const CONTENT_DATA = 0;
/** Position deletes (also v3 deletion vectors, file_format PUFFIN). */
export const CONTENT_POSITION_DELETES = 1;
/** Equality deletes. */
export const CONTENT_EQUALITY_DELETES = 2;

/** One live file of a snapshot, from a manifest entry, with inherited values resolved. */
export interface ContentFile {
  content: number;
  /** Path as written. */
  filePath: string;
  /** `filePath` normalized (`normalizeUri`), when the reader kept it: saves normalizing it again per data file. */
  uri?: string;
  /** Path relative to the source root. */
  path: string;
  fileFormat: string;
  specId: number;
  /** Partition tuple as JSON-safe values, keyed by partition field name. */
  partition: Record<string, import('../../src/scanner.js').JsonValue>;
  /** Canonical partition key for equality tests (spec id + values). */
  partitionKey: string;
  recordCount: number;
  fileSizeInBytes: number;
  /** Data sequence number (inherited from the manifest when null). */
  sequenceNumber: bigint;
  snapshotId: bigint;
  /** Raw stats maps (field id → value) kept for the data-file entries. */
  nullValueCounts?: Map<number, bigint>;
  lowerBounds?: Map<number, Uint8Array>;
  upperBounds?: Map<number, Uint8Array>;
  splitOffsets?: bigint[];
  equalityIds?: number[];
  /** Path as written of the one data file these deletes reference (the v3 `referenced_data_file` field). */
  referencedDataFile?: string;
  /**
   * What the delete file's own parquet footer says its `file_path` column holds (position deletes without
   * `referenced_data_file`); set by the scanner after reading the manifests.
   */
  footerTarget?: import('./delete-footer.js').DeleteFileTarget;
  /** The data file named by equal `file_path` lower and upper bounds in the manifest: a hint only. */
  boundsHint?: string;
  contentOffset?: bigint;
  contentSizeInBytes?: bigint;
  firstRowId?: bigint;
}
