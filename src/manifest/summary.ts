/**
 * A manifest version's summary — rows, files, segments, schema — from its root alone (chunked
 * versions) or from the whole document (format-1 versions), `countRows`-like.
 *
 * @module
 */
import type { Manifest, ManifestSchema } from '../types.js';
import type { ManifestRoot } from './chunks.js';

/** A manifest version's summary: the figures a consumer checks before loading segments. */
export interface ManifestSummary {
  /** Manifest version. */
  version: number;
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** Format name. */
  format: string;
  /** The table's own version (table formats), else `''`. */
  tableVersion: string;
  /** Commit time, epoch ms. */
  createdAt: number;
  /** Live rows. */
  totalRows: number;
  /** Physical rows. */
  physicalRows: number;
  /** False when some live row count is an upper bound. */
  totalRowsExact: boolean;
  /** Files (or table entries). */
  files: number;
  /** Segments. */
  segments: number;
  /** The collection schema. */
  schema: ManifestSchema;
  /** Digest of the content (equal digests: nothing changed). */
  contentHash: string;
}

/** The summary of a whole manifest or of a chunked version's root (no chunk is read). */
export function manifestSummary(doc: Manifest | ManifestRoot): ManifestSummary {
  const chunked = doc.manifestFormat === 2;
  return {
    version: doc.version,
    collectionName: doc.collectionName,
    dbName: doc.dbName,
    format: doc.format,
    tableVersion: doc.tableVersion,
    createdAt: doc.createdAt,
    totalRows: doc.totalRows,
    physicalRows: doc.physicalRows,
    totalRowsExact: doc.totalRowsExact,
    files: chunked ? doc.fileCount : doc.files.length,
    segments: chunked ? doc.segmentCount : doc.segments.length,
    schema: doc.schema,
    contentHash: doc.contentHash,
  };
}

/**
 * The summary of a version file's text: for a chunked version only its root is parsed (no chunk
 * read); a format-1 document is parsed whole.
 */
export function summaryOfVersionText(text: string): ManifestSummary {
  const doc = JSON.parse(text) as Manifest | ManifestRoot;
  if (doc.manifestFormat !== 1 && doc.manifestFormat !== 2) throw new Error(`unknown manifestFormat ${String((doc as { manifestFormat?: unknown }).manifestFormat)}`);
  return manifestSummary(doc);
}
