/**
 * Public types of the engine: collections, refresh jobs and manifests.
 * @module
 */
import type { ExternalSpec, JsonObject, Scanner, SourceStorage } from './scanner.js';
import type { LakemapErrorCode } from './errors.js';
import type { StorageOptions } from './storage/options.js';
import type { StorageFactory } from './storage/open.js';

/** Options of {@link RefreshEngine}. */
export interface RefreshEngineOptions {
  /** Directory holding collection definitions and manifests. Default `.lakemap`. */
  root?: string;
  /**
   * Named volumes: volume name → local or mounted directory. When given, only `volume://<name>/<path>`
   * sources are accepted, so a caller cannot point a collection anywhere else on the machine.
   */
  volumes?: Record<string, string>;
  /** Extra scanners, registered after the built-in ones (a scanner for an existing format replaces it). */
  scanners?: Scanner[];
  /** Manifest versions kept per collection; older ones are deleted after each commit. Default 10. */
  keepVersions?: number;
  /** Finished jobs kept for listing; the oldest are forgotten first. Default 1000. */
  keepJobs?: number;
  /** Files probed at once by a file-format refresh. Default 64. */
  concurrency?: number;
  /**
   * Worker threads that probe files beside the engine's own thread, for scanners that declare a
   * `split` probe or a `workerModule`, when a refresh has at least 1,000 files to open; they also
   * take a share of the stats of local listings of 4,096 files or more. Default: cores − 1 (at most 3)
   * with 4 or more cores, none on fewer; 0 turns them off. Workers start on first use and stay warm.
   */
  workers?: number;
  /**
   * Options of object-store sources (endpoint, region, credentials, `concurrency`, `retries`,
   * `timeoutMs` …), for every collection; a collection's spec key `storage_options` overrides the
   * non-secret ones. Kept in memory only: never written to manifests or job records.
   */
  storageOptions?: StorageOptions;
  /**
   * Your own {@link SourceStorage} backends by URL scheme, e.g. `{ gs: (url, ctx) => new MyGcs(url) }`;
   * sources with that scheme then open through it.
   */
  storage?: Record<string, StorageFactory>;
}

/** Maps a collection field onto a column of the external data. */
export interface FieldMapping {
  /** Field name in the collection. */
  name: string;
  /** Column name in the external files (top-level). */
  externalField: string;
  /**
   * Fixed vector width, as Milvus's vector fields declare it: a list column is then read as
   * `FixedSizeList<dim>`, and a row whose list has another length fails with `ROW_SHAPE_MISMATCH`.
   */
  dim?: number;
}

/** Arguments of {@link RefreshEngine.createCollection}. */
export interface CreateCollectionRequest {
  /** Collection name: letters, digits and `_`, not starting with a digit, at most 255 characters. */
  collectionName: string;
  /** Database name, same rule. Default `default`. */
  dbName?: string;
  /** `/abs/dir`, `file:///abs/dir`, `volume://<name>/<sub/dir>`, `s3://bucket/prefix`, `az://container/prefix` or a plugged-in scheme. */
  externalSource: string;
  /** The external spec, as an object or a JSON string; `format` is required. */
  externalSpec: ExternalSpec | string;
  /** Declared fields; when absent every column of the source is mapped under its own name. */
  fields?: FieldMapping[];
}

/** A stored collection definition. */
export interface CollectionInfo {
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** The external source as given. */
  externalSource: string;
  /** The external spec, parsed; unknown keys kept. */
  externalSpec: ExternalSpec;
  /** Declared fields (empty: all columns). */
  fields: FieldMapping[];
  /** Creation time, epoch ms. */
  createdAt: number;
  /** Current manifest version, 0 when never refreshed. */
  manifestVersion: number;
}

/** Identifies a collection. */
export interface CollectionRef {
  /** Collection name. */
  collectionName: string;
  /** Database name. Default `default`. */
  dbName?: string;
}

/** Arguments of {@link RefreshEngine.refreshExternalCollection}. */
export interface RefreshRequest extends CollectionRef {
  /** Replaces the stored source for this refresh and, if it completes, from then on. */
  externalSource?: string;
  /** Replaces the stored spec for this refresh and, if it completes, from then on. */
  externalSpec?: ExternalSpec | string;
  /** Cancels the refresh when aborted. */
  signal?: AbortSignal;
  /**
   * Paths (relative to the source, `/`-separated) of files or directories that may have been added,
   * modified, removed or renamed since the collection's current version, when the caller knows them
   * (a pipeline that just wrote files; a watch with native events passes its events' paths). For a
   * file format on a local directory, lakemap then looks at only those paths — a directory with its
   * whole subtree, every rule of the full listing applied (hidden and `_` names, the `files` globs,
   * symlinks followed only inside the source, non-regular files left out) — and trusts the current
   * version for every other file, so the refresh costs in proportion to the change instead of one
   * stat per file of the source.
   *
   * The hint must be complete: a change it omits stays unseen until the next refresh without
   * `changedPaths`, which lists the whole source again. A file reachable under two paths inside the
   * source (through a symlink, or a hard link) is listed under both: hint every path that changed.
   *
   * An absolute path, or one that climbs out with `..`, is refused at the call with `PATH_ESCAPE`; a
   * hinted path that leads outside through a symlink fails the job with `PATH_ESCAPE`, as the full
   * listing does. The whole source is listed instead (never less exact than without a hint) when the
   * hint cannot be certain to give the same: no current version, `externalSource` or `externalSpec`
   * given in this request, a spec, source or fields other than the current version's, a source that is
   * neither a local directory nor an S3 or Azure prefix, `verify: "footer"`, a current version with
   * warnings, a path that is the source root, more paths than a quarter of the files (on S3 and Azure,
   * 1% of them; at least 64), or a hinted listing with no file left (an
   * empty source fails with `NO_FILES` only from a full listing). Table formats (`lance-table`,
   * `iceberg-table`) read their table metadata and ignore it. {@link RefreshJobInfo.hint} tells
   * which listing a job took, and why. An empty list says that nothing changed.
   *
   * @example
   * ```ts
   * await engine.refreshExternalCollection({ collectionName: 'trips', changedPaths: ['day=2024-06-01', 'day=2024-06-02/part-7.parquet'] });
   * ```
   */
  changedPaths?: readonly string[];
}

/** How a refresh given {@link RefreshRequest.changedPaths} listed its source. */
export interface RefreshHintUse {
  /** `hinted`: from the previous version plus the changed paths; `full`: the whole source was listed. */
  listing: 'hinted' | 'full';
  /** Changed paths the request gave. */
  paths: number;
  /** Why the whole source was listed, when it was. */
  reason?: string;
}

/** The Milvus names of a refresh job's states. */
export type RefreshJobState = 'RefreshPending' | 'RefreshInProgress' | 'RefreshCompleted' | 'RefreshFailed';

/** What a completed refresh changed, compared with the previous manifest version. */
export interface RefreshChangeSet {
  /** Counts of files (or table entries) by what happened to them. */
  files: {
    /** New since the previous version. */
    added: number;
    /** Gone since the previous version. */
    removed: number;
    /** Present in both with another fingerprint. */
    modified: number;
    /** Present in both, unchanged. */
    unchanged: number;
  };
  /** Counts of segments. */
  segments: {
    /** Segment ids new in this version. */
    added: number;
    /** Segment ids no longer present. */
    removed: number;
    /** Segment ids carried over. */
    kept: number;
  };
  /** Paths of added files (at most 100). */
  addedPaths: string[];
  /** Paths of removed files (at most 100). */
  removedPaths: string[];
  /** Paths of modified files (at most 100). */
  modifiedPaths: string[];
}

/** A file left out of the manifest because `skip_invalid` was set. */
export interface SkippedFile {
  /** Path relative to the source root. */
  path: string;
  /** Error code. */
  code: LakemapErrorCode;
  /** Why it was skipped. */
  reason: string;
}

/** A snapshot of one refresh job, as reported by the engine. */
export interface RefreshJobInfo {
  /** Job id. */
  jobId: string;
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** Current state. */
  state: RefreshJobState;
  /** 0–100; never goes back; 100 only when completed. */
  progress: number;
  /** Empty unless failed: names the file and the cause. */
  reason: string;
  /** Error code when failed (e.g. `CORRUPT_FILE`, `CANCELLED`), else `''`. */
  errorCode: LakemapErrorCode | '';
  /**
   * Path of the file the failure is about (relative to the source when the scanner gave it so), when a failed
   * job's error named one; absent otherwise. `reason` names it too, in prose.
   */
  errorPath?: string;
  /** Source used by this refresh. */
  externalSource: string;
  /** Spec used by this refresh. */
  externalSpec: ExternalSpec;
  /** Epoch ms when the job started running, 0 when not yet. */
  startTime: number;
  /** Epoch ms when the job finished, 0 when not yet. */
  endTime: number;
  /** Files (or entries) known so far and processed so far. */
  filesTotal: number;
  /** Files processed so far; while listing (`filesTotal` still 0), files found so far. */
  filesDone: number;
  /** Manifest version after completion (the previous one when nothing changed), else 0. */
  version: number;
  /** True when the completed refresh committed a new manifest version. */
  committed: boolean;
  /** What changed; present once completed. */
  changes?: RefreshChangeSet;
  /** Files skipped under `skip_invalid`. */
  skipped: SkippedFile[];
  /** Warnings from scanners. */
  warnings: string[];
  /** Present when the request gave {@link RefreshRequest.changedPaths}: which listing the job took, and why. */
  hint?: RefreshHintUse;
}

/** A unit of a manifest file: a row group, fragment, chunk … with its row offset inside the file. */
export interface ManifestUnit {
  /** First row of the unit inside its file. */
  rowOffset: number;
  /** Rows in the unit. */
  rows: number;
  /** Bytes of the unit in its file, 0 when unknown. */
  byteSize: number;
  /** Format-specific facts. */
  details?: JsonObject;
}

/** One external file (or table entry) of a manifest. */
export interface ManifestFile {
  /** Path relative to the source root, `/`-separated. */
  path: string;
  /** Size in bytes. */
  sizeBytes: number;
  /** Modification time, epoch ms (0 when the scanner did not give one). */
  mtimeMs: number;
  /** Content identity; segment ids derive from it. */
  fingerprint: string;
  /** ETag (or version id) of the object, for object-store sources. */
  etag?: string;
  /** Physical rows. */
  rows: number;
  /** Rows after deletes. */
  liveRows: number;
  /** False when `liveRows` is only an upper bound. */
  liveRowsExact: boolean;
  /** Index into {@link Manifest.fileSchemas} (file formats), or -1. */
  schemaIndex: number;
  /** Units in row order. */
  units: ManifestUnit[];
  /** Format-specific facts. */
  details?: JsonObject;
}

/** A contiguous row range of one file. */
export interface SegmentRange {
  /** File path relative to the source root. */
  path: string;
  /** First row inside the file. */
  rowOffset: number;
  /** Rows in the range. */
  rows: number;
}

/** A segment: up to `segment_max_rows` contiguous rows of one file, with an id stable while the file is unchanged. */
export interface Segment {
  /** Stable id. */
  id: string;
  /** Rows. */
  rows: number;
  /** The rows' location (one range: segments never span files). */
  ranges: SegmentRange[];
}

/** A column of a schema, in a JSON-friendly form. */
export interface SchemaField {
  /** Column name. */
  name: string;
  /** Arrow type, as `DataType.toString()` prints it. */
  type: string;
  /** Nullable. */
  nullable: boolean;
  /** Child columns of nested types. */
  children?: SchemaField[];
}

/** The collection schema: a readable field list plus the exact Arrow schema. */
export interface ManifestSchema {
  /** Fields, readable. */
  fields: SchemaField[];
  /** The Arrow schema as a base64 IPC stream (decode with {@link manifestArrowSchema}). */
  arrowIpc: string;
}

/** One committed manifest version of a collection. */
export interface Manifest {
  /** Layout version of this JSON document. */
  manifestFormat: 1;
  /** Manifest version, from 1. */
  version: number;
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** Declared fields at commit time. */
  fields: FieldMapping[];
  /** Format name (`externalSpec.format`). */
  format: string;
  /** External source as given. */
  externalSource: string;
  /** The directory it resolved to. */
  resolvedSource: string;
  /** External spec used. */
  externalSpec: ExternalSpec;
  /** Commit time, epoch ms. */
  createdAt: number;
  /** Id of the job that committed it. */
  jobId: string;
  /** The table's own version (table formats), else `''`. */
  tableVersion: string;
  /** The collection schema. */
  schema: ManifestSchema;
  /** Distinct per-file schemas (file formats), referenced by {@link ManifestFile.schemaIndex}. */
  fileSchemas: ManifestSchema[];
  /** Warnings from scanners. */
  warnings: string[];
  /** Live rows of the collection (after deletes). */
  totalRows: number;
  /** Physical rows (before deletes). */
  physicalRows: number;
  /** False when some file's live row count is only an upper bound. */
  totalRowsExact: boolean;
  /** Files in path order (file formats) or table order (table formats). */
  files: ManifestFile[];
  /** Segments in file order. */
  segments: Segment[];
  /** Files skipped under `skip_invalid`. */
  skipped: SkippedFile[];
  /** Snapshot-level facts from a table scanner. */
  details?: JsonObject;
  /** Digest of everything above except version, time and job: equal digests mean nothing changed. */
  contentHash: string;
}

/** One version file as {@link RefreshEngine.repairCollection} found it. */
export interface RepairedVersion {
  /** The version number in the file's name. */
  version: number;
  /** What is wrong with it; empty when it parses and validates. */
  problems: string[];
}

/** What {@link RefreshEngine.repairCollection} found and did. */
export interface RepairReport {
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** Problems found, one sentence each (empty: the collection was sound). */
  found: string[];
  /** What was done, one sentence each (empty: nothing needed doing). */
  actions: string[];
  /** Each version file looked at, newest first, with its problems (empty when it validates). */
  versionFiles: RepairedVersion[];
  /** The version `CURRENT` names after the repair (0: the collection has no manifest now). */
  version: number;
}

/** Arguments of {@link RefreshEngine.getManifest}. */
export interface GetManifestRequest extends CollectionRef {
  /** A version to read; default the current one. */
  version?: number;
}
