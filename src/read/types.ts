/**
 * Public types of reading rows.
 * @module
 */

/** Arguments of {@link RefreshEngine.readSegment}. */
export interface ReadSegmentRequest {
  /** Collection name. */
  collectionName: string;
  /** Database name. Default `default`. */
  dbName?: string;
  /** Id of a segment of the manifest version read. */
  segmentId: string;
  /** Manifest version; default the current one. */
  version?: number;
  /** Collection fields to read, in this order; default all. */
  columns?: string[];
  /** Stops the read (between batches) when aborted; the iterator then throws `CANCELLED`. */
  signal?: AbortSignal;
  /**
   * Largest single read (a column chunk, a page) in bytes; default 1 GiB. Also bounds the keys of an
   * Iceberg data file's equality deletes held while it is read (past it: `UNSUPPORTED`).
   */
  readBudgetBytes?: number;
}

/** Arguments of {@link RefreshEngine.readCollection}: every segment of a manifest version, in order. */
export type ReadCollectionRequest = Omit<ReadSegmentRequest, 'segmentId'>;
