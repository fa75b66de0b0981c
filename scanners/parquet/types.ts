/**
 * The parts of a parquet footer the scanner keeps: plain data, produced by `metadata.ts` and read by
 * `schema.ts` and `index.ts`.
 */

/** Physical types (`parquet.thrift` `Type`). */
export const PhysicalType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;

/** Field repetition (`parquet.thrift` `FieldRepetitionType`). */
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;

/** Legacy converted types (`parquet.thrift` `ConvertedType`), superseded by {@link LogicalType}. */
export const ConvertedType = {
  UTF8: 0,
  MAP: 1,
  MAP_KEY_VALUE: 2,
  LIST: 3,
  ENUM: 4,
  DECIMAL: 5,
  DATE: 6,
  TIME_MILLIS: 7,
  TIME_MICROS: 8,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
  JSON: 19,
  BSON: 20,
  INTERVAL: 21,
} as const;

/** Unit of a TIME or TIMESTAMP logical type. */
export type TimeUnit = 'millis' | 'micros' | 'nanos';

/** The `LogicalType` union of a schema element; `unknown` is a member this reader does not know. */
export type LogicalType =
  | { kind: 'string' | 'map' | 'list' | 'enum' | 'date' | 'null' | 'json' | 'bson' | 'uuid' | 'float16' | 'variant' | 'geometry' | 'geography' | 'unknown' }
  | { kind: 'decimal'; scale: number; precision: number }
  | { kind: 'time' | 'timestamp'; utc: boolean; unit: TimeUnit }
  | { kind: 'integer'; bitWidth: 8 | 16 | 32 | 64; signed: boolean };

/** One element of the flattened (depth-first) schema list. */
export interface SchemaElement {
  name: string;
  /** Physical type; absent for groups. */
  type?: number;
  /** Byte width of FIXED_LEN_BYTE_ARRAY values. */
  typeLength?: number;
  /** Absent only on the root. */
  repetition?: number;
  /** Children of a group; absent (or 0 in some writers) for leaves. */
  numChildren?: number;
  convertedType?: number;
  scale?: number;
  precision?: number;
  fieldId?: number;
  logicalType?: LogicalType;
}

/** One row group, reduced to what the manifest needs. */
export interface RowGroupInfo {
  numRows: number;
  /** `RowGroup.total_byte_size` (uncompressed). */
  totalByteSize: number;
  /** `RowGroup.total_compressed_size`, or -1 when the writer left it out. */
  totalCompressedSize: number;
  /** Column chunks in the row group. */
  numColumns: number;
  /** Sum of the column chunks' `total_compressed_size`. */
  columnsCompressedSize: number;
  /** Smallest first-page offset over the column chunks (`RowGroup.file_offset` is not trusted), -1 if no columns. */
  startOffset: number;
}

/** A decoded footer. */
export interface FooterMetadata {
  version: number;
  /** `FileMetaData.num_rows` as written (it can disagree with the row groups). */
  numRows: number;
  /** Byte range of the schema list (its list header included) inside the footer buffer. */
  schemaStart: number;
  schemaEnd: number;
  rowGroups: RowGroupInfo[];
  createdBy: string | undefined;
  /** Base64 value of the `ARROW:schema` key/value entry, when an Arrow-based writer stored one. */
  arrowSchema: string | undefined;
  /** True when `encryption_algorithm` is set: a plaintext footer over encrypted columns. */
  encrypted: boolean;
}
