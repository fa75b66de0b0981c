/**
 * The public scanner contract. Built-in scanners (parquet, vortex, lance-table, iceberg-table) import
 * only this module, so a scanner a user registers is used exactly like a built-in one.
 *
 * A scanner is a plain object. A *file* scanner probes one file at a time; the engine lists the files,
 * reads each file's tail, calls `probe` with bounded concurrency and reports progress. A *table* scanner
 * resolves a table's snapshot from the table's own metadata and returns every entry at once.
 *
 * @module
 */
import type { Schema } from 'apache-arrow';

export { LakemapError, corruptFile } from './errors.js';
export type { LakemapErrorCode, LakemapErrorOptions } from './errors.js';
export { ProtoReader } from './wire/protobuf.js';
export type { ProtoField } from './wire/protobuf.js';

/**
 * Top-level columns recorded per schema. A footer can declare a million columns in a few MB; recording
 * them all would make the manifest hundreds of MB. The engine cuts a longer schema to this many columns
 * with a warning; a scanner that reads untrusted schemas should stop building columns at this count too
 * (and warn), so a wide footer costs the memory of this many columns, not of all it declares.
 */
export const MAX_RECORDED_COLUMNS = 10_000;

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object; scanners put format-specific facts in `details` fields of this type. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * The external spec of a collection, as Milvus takes it: `format` names the scanner; other keys are
 * format options and are kept verbatim even when no scanner knows them.
 *
 * Keys the engine itself reads for file formats: `files` (a picomatch glob or list of globs relative
 * to the source: `*.parquet` is top level only, a `**` segment matches any depth; default every file with the
 * scanner's extension), `segment_max_rows`, `skip_invalid`, `allow_empty` (an empty source commits an
 * empty version instead of failing with `NO_FILES`) and `verify` (`"stat"`, the default, trusts size and
 * mtime; `"footer"` re-reads every footer and compares a hash).
 */
export interface ExternalSpec {
  /** Scanner format name, e.g. `parquet`. */
  format: string;
  /** Any other option, passed through to the scanner. */
  [key: string]: unknown;
}

/** One regular file under a source root. */
export interface FileStat {
  /** Path relative to the source root, `/`-separated, never starting with `/` or containing `..`. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Modification time, epoch milliseconds (may have a fractional part). */
  mtimeMs: number;
  /**
   * Content identity from an object store (ETag or version id), when the storage has one. It joins
   * size and mtime in deciding whether a file changed, so a same-size rewrite within the store's
   * mtime granularity is still seen.
   */
  etag?: string;
}

/**
 * Read access to one source root. Every path is relative to the root and `/`-separated; a path that
 * would leave the root (through `..` or a symlink) is refused with a `PATH_ESCAPE` error.
 * This is the whole storage contract: the local, S3 and Azure storages implement it, and so can a
 * user's own (see the engine's `storage` option).
 */
export interface SourceStorage {
  /** The root, as a person would recognise it (used in messages). */
  readonly root: string;
  /** Size and mtime of a file, or `undefined` when it does not exist. */
  stat(path: string): Promise<FileStat | undefined>;
  /**
   * Exactly `length` bytes at `offset`. A range past the end of the file is refused with a
   * `CORRUPT_FILE` error naming the file, before anything is allocated.
   */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** A whole file, refused with `CORRUPT_FILE` when it is larger than `maxBytes` (default 256 MiB). */
  readFile(path: string, maxBytes?: number): Promise<Uint8Array>;
  /**
   * Every regular file below `dir` (default: the root), recursively, sorted by path. With
   * `{ stats: false }` the caller needs names only: a backend may then leave `size` and `mtimeMs` at -1
   * and save a stat per file.
   */
  list(dir?: string, options?: ListOptions): Promise<FileStat[]>;
}

/** Options of {@link SourceStorage.list}. */
export interface ListOptions {
  /** False when only paths are needed (`size` and `mtimeMs` may then be -1). Default true. */
  stats?: boolean;
}

/** One unit of a file or table entry (a parquet row group, a lance fragment, a vortex chunk …). */
export interface UnitInfo {
  /** Rows in the unit (physical rows, before deletes). */
  rows: number;
  /** Bytes the unit occupies in its file (compressed), or 0 when unknown. */
  byteSize: number;
  /** Format-specific facts (JSON-safe). */
  details?: JsonObject;
}

/** What a scanner says about one file or table entry. */
export interface ScannedEntry {
  /** Physical rows, the sum of the units' rows. */
  rows: number;
  /** Rows left after deletes; defaults to `rows`. */
  liveRows?: number;
  /** False when `liveRows` is an upper bound because some deletes cannot be counted from metadata. */
  liveRowsExact?: boolean;
  /** Units in row order; row offsets are their prefix sums. */
  units: UnitInfo[];
  /** Format-specific facts (JSON-safe). */
  details?: JsonObject;
  /** Things a person should know that do not fail the refresh (e.g. a footer that disagrees with itself). */
  warnings?: string[];
}

/** The file handed to {@link FileScanner.probe}. */
export interface ProbeFile {
  /** Path relative to the source root. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** Modification time, epoch ms. */
  readonly mtimeMs: number;
  /** The last `min(size, scanner.tailBytes)` bytes of the file, already read. */
  readonly tail: Uint8Array;
  /** Read more of the file: exactly `length` bytes at `offset`, refused when past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Context of one probe or snapshot. */
export interface ScanContext {
  /** The external spec of this refresh. */
  readonly spec: ExternalSpec;
  /** Aborted when the refresh is cancelled; long scans should check it. */
  readonly signal: AbortSignal;
}

/** A file scanner's answer for one file. */
export interface FileProbe extends ScannedEntry {
  /** The file's schema as Apache Arrow. Return the same object for equal schemas where cheap: the engine caches by identity. */
  schema: Schema;
  /** Overrides the fingerprint the engine derives from size, mtime and tail bytes. */
  fingerprint?: string;
}

/**
 * A scanner for formats whose unit of discovery is one file (parquet, vortex).
 *
 * @example
 * ```ts
 * const textLines: FileScanner = {
 *   kind: 'file', format: 'lines', extensions: ['.txt'], tailBytes: 0, // no footer: read in probe()
 *   async probe(file) {
 *     const rows = new TextDecoder().decode(await file.read(0, file.size)).split('\n').filter(Boolean).length;
 *     return { rows, units: [{ rows, byteSize: file.size }], schema };
 *   },
 * };
 * ```
 */
export interface FileScanner {
  /** Discriminant. */
  readonly kind: 'file';
  /** The `format` value of the external spec this scanner handles. */
  readonly format: string;
  /** File name endings selected by default, e.g. `['.parquet']`. */
  readonly extensions: readonly string[];
  /** How many tail bytes the engine reads before `probe` (default 64 KiB). */
  readonly tailBytes?: number;
  /** Throws `INVALID_SPEC` for options it cannot accept; called before the job reads any file. */
  validateSpec?(spec: ExternalSpec): void;
  /**
   * Where a worker thread can import this scanner from (a module URL, usually `import.meta.url`, and
   * the name it is exported under). When set, the engine may probe files in worker threads to use
   * more cores; the probe must then depend only on its arguments.
   */
  readonly workerModule?: {
    /** Module URL, e.g. `import.meta.url`. */
    url: string;
    /** Name of the export that is this scanner. */
    exportName: string;
  };
  /** Reads one file's metadata. Throw a {@link LakemapError} (`CORRUPT_FILE`, `UNSUPPORTED`, …) for bad files. */
  probe(file: ProbeFile, ctx: ScanContext): FileProbe | Promise<FileProbe>;
  /**
   * `probe` in two stages, so probe worker threads load only the first: `module` exports a
   * {@link FileDecoder} that reads a file into plain (structured-cloneable) data without Apache Arrow,
   * and `finish` turns that into the probe on the engine's thread. `probe(file)` must equal
   * `finish(file, await decode(file))`. Preferred over `workerModule` when both are given.
   */
  readonly split?: {
    /** Module URL and export name of the {@link FileDecoder}. */
    module: {
      /** URL of the module (e.g. `new URL('./decode.js', import.meta.url).href`). */
      url: string;
      /** Name of the export holding the {@link FileDecoder}. */
      exportName: string;
    };
    /** The probe from what `decode` returned for `file` (in this thread or a worker's). */
    finish(file: Pick<ProbeFile, 'path' | 'size' | 'mtimeMs'>, decoded: unknown, ctx: ScanContext): FileProbe;
  };
}

/** First stage of a split {@link FileScanner.probe}: runs in probe workers, so it must not need Apache Arrow. */
export interface FileDecoder {
  /** Reads `file` into plain data for {@link FileScanner.split}'s `finish`. Throws as `probe` would. */
  decode(file: ProbeFile, ctx: ScanContext): unknown;
}

/** One entry (data file, fragment …) of a table snapshot. */
export interface TableEntry extends ScannedEntry {
  /** Path relative to the source root of the entry's main file. */
  path: string;
  /** Bytes of the entry's files, or 0 when unknown. */
  sizeBytes: number;
  /** Modification time if known, else 0. */
  mtimeMs?: number;
  /**
   * Identity of the entry's content: equal fingerprints mean equal rows. Segment ids derive from it, so
   * an unchanged entry keeps its segment ids across refreshes.
   */
  fingerprint: string;
}

/** Context of a table snapshot: the scan context plus what the previous manifest knew. */
export interface SnapshotContext extends ScanContext {
  /**
   * The table folder inside `source`, `/`-separated, when the engine handed the scanner a storage rooted
   * above the collection's source: for a scanner with {@link TableScanner.mapsBesideTable} and a
   * `volume://<name>/<path>` source, `source` is the volume's directory and `tablePath` is `<path>`.
   * Absent (or `''`) when `source` is the table itself.
   */
  readonly tablePath?: string;
  /** Report progress of the snapshot (`done` of `total` steps). */
  progress(done: number, total: number): void;
  /** Entries of the previous manifest version by fingerprint, so expensive reads can be skipped. */
  readonly previous?: {
    /** The table version the previous manifest mapped. */
    readonly tableVersion: string;
    /** Its entries by fingerprint. */
    readonly entries: ReadonlyMap<string, TableEntry>;
  };
}

/** A table scanner's answer: the resolved snapshot. */
export interface TableSnapshot {
  /** The table's own version (lance version, iceberg snapshot id); `''` for an empty table. */
  tableVersion: string;
  /** The table schema at that version, as Apache Arrow. */
  schema: Schema;
  /** Every live entry, in the table's row order. */
  entries: TableEntry[];
  /** Format-specific facts about the snapshot (JSON-safe). */
  details?: JsonObject;
  /** Things a person should know that do not fail the refresh. */
  warnings?: string[];
}

/**
 * A scanner for formats whose unit of discovery is a table directory (lance-table, iceberg-table).
 */
export interface TableScanner {
  /** Discriminant. */
  readonly kind: 'table';
  /** The `format` value of the external spec this scanner handles. */
  readonly format: string;
  /** Throws `INVALID_SPEC` for options it cannot accept; called before the job reads any file. */
  validateSpec?(spec: ExternalSpec): void;
  /**
   * True for a format whose tables may name files beside the table folder (Iceberg's `add_files`,
   * migrated tables). For a `volume://<name>/<path>` source the engine then roots the storage handed to
   * {@link TableScanner.snapshot} at the volume's directory — the root the user allowed — and passes
   * `<path>` as {@link SnapshotContext.tablePath}; entry paths (and the manifest's `resolvedSource`) are
   * then relative to the volume's directory. Every path still goes through the storage's escape check.
   */
  readonly mapsBesideTable?: boolean;
  /** Resolves the snapshot to map, reading only metadata. */
  snapshot(source: SourceStorage, ctx: SnapshotContext): Promise<TableSnapshot>;
  /**
   * Optional fast path of a refresh that finds nothing new: true only when the table certainly still
   * is the snapshot the previous version mapped (same table version, metadata provably the same), so
   * the engine completes the job with `committed: false` without a snapshot. Anything uncertain, or
   * any error, must answer false: the engine then takes a snapshot as usual.
   */
  unchanged?(source: SourceStorage, ctx: UnchangedContext): Promise<boolean>;
}

/** What {@link TableScanner.unchanged} is asked about. */
export interface UnchangedContext extends ScanContext {
  /** As {@link SnapshotContext.tablePath}. */
  readonly tablePath?: string;
  /** The snapshot the previous version mapped: its table version and details. */
  readonly previous: {
    /** The table version the previous snapshot reported ({@link TableSnapshot.tableVersion}). */
    readonly tableVersion: string;
    /** The previous snapshot's details, as committed ({@link TableSnapshot.details}). */
    readonly details: JsonObject | undefined;
  };
}

/** Any scanner: register with `RefreshEngine.registerScanner` or the `scanners` option. */
export type Scanner = FileScanner | TableScanner;
