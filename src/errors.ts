/**
 * Stable error codes. Callers switch on {@link LakemapError.code}, never on message text.
 */
export type LakemapErrorCode =
  /** A collection or database name breaks Milvus's naming rule. */
  | 'INVALID_NAME'
  /** The external spec is not valid JSON, lacks `format`, or has a bad value for a key. */
  | 'INVALID_SPEC'
  /** The spec names a format no registered scanner handles. */
  | 'UNKNOWN_FORMAT'
  /** The external source string cannot be resolved (bad URI, unknown volume, not a directory). */
  | 'INVALID_SOURCE'
  /** A path leads outside the root it was resolved against (`..` or a symlink). */
  | 'PATH_ESCAPE'
  /** A file or directory that must exist does not. */
  | 'NOT_FOUND'
  /** Reading a file failed at the operating-system level. */
  | 'IO_ERROR'
  /** A file's bytes do not form a valid file of its format (bad magic, truncated, out-of-range lengths). */
  | 'CORRUPT_FILE'
  /** A valid file uses a feature this library does not read (encrypted footer, legacy layout, too-new version). */
  | 'UNSUPPORTED'
  /** A declared field's external column is missing from the source schema. */
  | 'FIELD_NOT_FOUND'
  /** A declared field's external column has a type that cannot back a collection field. */
  | 'FIELD_TYPE_UNSUPPORTED'
  /** Two files disagree on the type of a mapped column. */
  | 'SCHEMA_MISMATCH'
  /** A table version or snapshot named by the spec does not exist. */
  | 'VERSION_NOT_FOUND'
  /** A collection with that name already exists in that database. */
  | 'COLLECTION_EXISTS'
  /** No collection with that name exists in that database. */
  | 'COLLECTION_NOT_FOUND'
  /** A refresh (or drop, or repair) of the collection is already running, in this or another engine or process; names the holder. */
  | 'REFRESH_IN_PROGRESS'
  /** No job with that id is known to this engine or recorded under its root. */
  | 'JOB_NOT_FOUND'
  /**
   * A commit found the collection changed under it: `CURRENT` no longer names the version the job
   * started from, the version file exists already, the lock was taken away, or the collection was
   * dropped (or dropped and created again). The previous version stays current.
   */
  | 'COMMIT_CONFLICT'
  /** Reading or writing the metadata root failed (ENOSPC, EACCES, EIO, a directory where a file should be); names the file. */
  | 'ROOT_IO_ERROR'
  /** The process that ran a job ended (killed, crashed) before the job finished. */
  | 'PROCESS_ENDED'
  /** The refresh was cancelled. */
  | 'CANCELLED'
  /** The collection has no manifest (never refreshed) or not the version asked for. */
  | 'MANIFEST_NOT_FOUND'
  /** A stored manifest cannot be read back. */
  | 'MANIFEST_CORRUPT'
  /** A job state change that the transition table forbids (a bug, reported loudly). */
  | 'ILLEGAL_TRANSITION'
  /** A scanner threw something other than a LakemapError, or returned inconsistent results (a scanner bug). */
  | 'SCANNER_ERROR'
  /** An argument to a public method is malformed. */
  | 'INVALID_ARGUMENT'
  /** No segment with that id in the manifest version read. */
  | 'SEGMENT_NOT_FOUND'
  /** A file changed (size or modification time) since the manifest mapped it: its rows are no longer the mapped ones. */
  | 'SOURCE_CHANGED'
  /** A row's values do not fit the field's declared shape (e.g. a vector whose length is not the field's `dim`). */
  | 'ROW_SHAPE_MISMATCH'
  /** An optional package a source needs (e.g. `@aws-sdk/client-s3`) is not installed; the message names it. */
  | 'MISSING_DEPENDENCY'
  /** The bucket (S3) or container (Azure) of an object-store source does not exist. */
  | 'BUCKET_NOT_FOUND'
  /** The object store refused the credentials or their permissions (or none were found). */
  | 'ACCESS_DENIED'
  /** The object store's credentials (session token, SAS) have expired. */
  | 'CREDENTIALS_EXPIRED'
  /** The source has no file to map (emptied, unmounted, or a `files` glob that matches nothing) and the spec does not set `allow_empty`. */
  | 'NO_FILES'
  /** Declared fields conflict, e.g. two fields mapped to the same external column. */
  | 'INVALID_FIELDS'
  /** The engine was closed; it starts no more refreshes. */
  | 'ENGINE_CLOSED'
  /** A bug in lakemap, e.g. a remote read reaching bytes it had not fetched; the message says what, please report it. */
  | 'INTERNAL';

/** Options for {@link LakemapError}. */
export interface LakemapErrorOptions {
  /** The file or directory the error is about, when there is one. */
  path?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** Marks lakemap errors across copies of the package (`Symbol.for` is shared by every copy in a process). */
const BRAND = Symbol.for('lakemap.LakemapError');

/**
 * The one error class of lakemap: a stable `code`, the file involved and a message a person can act on.
 *
 * @example
 * ```ts
 * try { await engine.refreshExternalCollection({ collectionName: 'c' }); }
 * catch (e) { if (LakemapError.is(e, 'REFRESH_IN_PROGRESS')) console.log('busy'); }
 * ```
 */
export class LakemapError extends Error {
  /** Stable machine-readable code. */
  readonly code: LakemapErrorCode;
  /** The file or directory involved, if any. */
  readonly path?: string;

  constructor(code: LakemapErrorCode, message: string, options: LakemapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LakemapError';
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * True when `err` is a LakemapError, and has `code` when one is given. Recognises errors of any copy
   * of lakemap loaded in the process (two installed versions, or ESM and CommonJS), not only this one's.
   */
  static is(err: unknown, code?: LakemapErrorCode): err is LakemapError {
    const branded = typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
    return branded && (code === undefined || (err as LakemapError).code === code);
  }
}

/** Shorthand for a CORRUPT_FILE error about `path`. */
export function corruptFile(path: string, reason: string, cause?: unknown): LakemapError {
  return new LakemapError('CORRUPT_FILE', `${path}: ${reason}`, { path, cause });
}
