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
   * Largest single read (a column chunk, a page) in bytes; default 1 GiB. Also bounds what an Iceberg
   * data file's deletes hold while it is read: one bit per row for deleted positions plus the keys of
   * its equality deletes (past it: `UNSUPPORTED`), and the delete files the call keeps loaded for the
   * other data files they apply to (dropped, not refused, when they do not fit).
   */
  readBudgetBytes?: number;
}

/** Arguments of {@link RefreshEngine.readCollection}: every segment of a manifest version, in order. */
export type ReadCollectionRequest = Omit<ReadSegmentRequest, 'segmentId'>;
