import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import { checkFields, checkName, parseSpec } from './definition.js';
import { isFinal, JobRegistry, type RefreshJobEvent } from './jobs.js';
import { JobRecords } from './job-records.js';
import { JobQueries } from './job-queries.js';
import { makeHolder, type Holder } from '../manifest/lock.js';
import { repairCollection } from './repair.js';
import { ManifestStore, type StoredCollection } from '../manifest/store.js';
import { FileIndexCache } from '../manifest/file-index-cache.js';
import type { VersionStore } from '../manifest/versions.js';
import { currentManifest, startRefresh, type EngineState } from './plan.js';
import { engineSettings, type EngineSettings } from './options.js';
import { watchHost } from './watch-host.js';
import { JobEventTarget } from './events.js';
export type { RefreshEngineEventType } from './events.js';
import { parseSource } from '../storage/source.js';
import { WatchHandle, closeWatches } from '../watch/watch.js';
import type { WatchOptions } from '../watch/types.js';
import { specStorageOptions } from '../storage/options.js';
import type { Scanner } from '../scanner.js';
import type {
  CollectionInfo,
  CollectionRef,
  CreateCollectionRequest,
  GetManifestRequest,
  Manifest,
  RefreshEngineOptions,
  RefreshJobInfo,
  RefreshRequest,
  RepairReport,
} from '../types.js';
import { builtinStandIns } from '../../scanners/builtin.js';
import type { RecordBatch } from 'apache-arrow';
import type { ReadCollectionRequest, ReadSegmentRequest } from '../read/types.js';
import { diffManifestVersions, type ManifestDiff } from '../manifest/diff.js';
import type { ManifestSummary } from '../manifest/summary.js';
import type { ManifestStream } from '../manifest/stream.js';

/** What {@link RefreshEngine.refreshExternalCollection} returns. */
export interface RefreshStarted {
  /** Id of the new job, for progress, waiting and cancelling. */
  jobId: string;
}

/**
 * The embedded refresh engine: holds external collections, runs refresh jobs that scan their sources'
 * metadata, and commits versioned manifests under `root`.
 *
 * @example
 * ```ts
 * const engine = new RefreshEngine({ root: '.lakemap' });
 * await engine.createCollection({ collectionName: 'trips', externalSource: '/data/trips', externalSpec: { format: 'parquet' } });
 * const { jobId } = await engine.refreshExternalCollection({ collectionName: 'trips' });
 * const info = await engine.waitForRefresh(jobId);
 * if (info.state === 'RefreshCompleted') console.log((await engine.getManifest({ collectionName: 'trips' })).totalRows);
 * ```
 */
export class RefreshEngine extends JobEventTarget {
  /** Metadata directory (absolute). */
  readonly root: string;
  private readonly scanners = new Map<string, Scanner>();
  private readonly store: ManifestStore;
  private readonly jobs: JobRegistry;
  private readonly records: JobRecords;
  private readonly queries: JobQueries;
  /** Names this engine in locks and job records. */
  private readonly holder: Holder = makeHolder();
  private readonly settings: EngineSettings;
  private closing: Promise<void> | undefined;
  /** What starting a refresh reads and updates (see plan.ts). */
  private readonly state: EngineState;

  constructor(options: RefreshEngineOptions = {}) {
    super();
    this.root = path.resolve(options.root ?? '.lakemap');
    this.store = new ManifestStore(this.root);
    const settings = (this.settings = engineSettings(options));
    this.jobs = new JobRegistry(settings.keepJobs);
    this.records = new JobRecords(this.root);
    this.queries = new JobQueries(this.jobs, this.records);
    for (const s of builtinStandIns) this.registerScanner(s); // each loads on first use
    for (const s of options.scanners ?? []) this.registerScanner(s);
    this.state = {
      ...settings,
      store: this.store,
      jobs: this.jobs,
      records: this.records,
      holder: this.holder,
      cache: new Map(),
      indexes: new FileIndexCache(),
      scanners: this.scanners,
      formats: () => this.formats(),
      schemes: () => this.schemes(),
      loadDefinition: (db, name) => this.loadDefinition(db, name),
      emitJob: (e) => this.emitJob(e),
      pruneRecords: () => this.pruneRecords(),
    };
  }

  /** Adds a scanner; one registered for an existing format replaces it. */
  registerScanner(scanner: Scanner): void {
    const ok =
      scanner &&
      typeof scanner.format === 'string' &&
      scanner.format !== '' &&
      ((scanner.kind === 'file' && typeof scanner.probe === 'function' && Array.isArray(scanner.extensions)) ||
        (scanner.kind === 'table' && typeof scanner.snapshot === 'function'));
    if (!ok) {
      throw new LakemapError('INVALID_ARGUMENT', 'a scanner is { kind: "file", format, extensions, probe } or { kind: "table", format, snapshot }');
    }
    this.scanners.set(scanner.format, scanner);
  }

  /** Formats this engine can refresh, sorted. */
  formats(): string[] {
    return [...this.scanners.keys()].sort();
  }

  /** Creates a collection over an external source. Nothing is scanned until a refresh. A failed create leaves nothing behind. */
  async createCollection(req: CreateCollectionRequest): Promise<CollectionInfo> {
    const collectionName = checkName('collection', req?.collectionName);
    const dbName = checkName('database', req.dbName ?? 'default');
    const externalSpec = parseSpec(req.externalSpec, this.formats());
    parseSource(req.externalSource, this.settings.volumes, this.schemes());
    specStorageOptions(externalSpec);
    const def: StoredCollection = {
      collectionName,
      dbName,
      externalSource: req.externalSource,
      externalSpec,
      fields: checkFields(req.fields),
      createdAt: Date.now(),
    };
    this.store.create(def);
    return { ...def, manifestVersion: 0 };
  }

  /** A collection's definition, with the source and spec of its current manifest. */
  async describeCollection(ref: CollectionRef): Promise<CollectionInfo> {
    const { dbName, collectionName } = this.ref(ref);
    const { incarnation: _, ...def } = this.loadDefinition(dbName, collectionName);
    const version = this.store.versions(dbName, collectionName).current();
    if (version === 0) return { ...def, manifestVersion: 0 };
    const m = this.currentManifest(dbName, collectionName);
    return { ...def, externalSource: m.externalSource, externalSpec: m.externalSpec, manifestVersion: version };
  }

  /** Names of the collections of a database (default `default`). */
  async listCollections(options: { dbName?: string } = {}): Promise<string[]> {
    return this.store.list(checkName('database', options.dbName ?? 'default'));
  }

  /**
   * Deletes a collection and its manifests (never the external data). It takes the collection's lock
   * first, so it is refused with `REFRESH_IN_PROGRESS` (naming the holder) while any engine or process
   * on the root refreshes it: cancel that refresh, wait for it, then drop.
   */
  async dropCollection(ref: CollectionRef): Promise<void> {
    const { dbName, collectionName } = this.ref(ref);
    this.loadDefinition(dbName, collectionName);
    this.state.cache.delete(`${dbName}.${collectionName}`);
    this.state.indexes.delete(`${dbName}.${collectionName}`);
    this.store.drop(dbName, collectionName, this.holder);
  }

  /**
   * Starts a refresh and returns its job id at once, before any file is read. A source or spec given
   * here replaces the stored one for this refresh and, if it completes, from then on.
   * The collection's lock is taken here: while any engine or process on the same root refreshes (or
   * drops) it, the call is refused with `REFRESH_IN_PROGRESS` naming the holder. The job releases the
   * lock when it ends, however it ends.
   */
  async refreshExternalCollection(req: RefreshRequest): Promise<RefreshStarted> {
    const { dbName, collectionName } = this.ref(req);
    if (this.closing) throw new LakemapError('ENGINE_CLOSED', `this engine on ${this.root} is closed; create a new RefreshEngine to refresh ${dbName}.${collectionName}`);
    return { jobId: startRefresh(this.state, dbName, collectionName, req) };
  }

  /** A job's current info, from any engine or process on the same root. Throws `JOB_NOT_FOUND` for an unknown id. */
  getRefreshExternalCollectionProgress(jobId: string): RefreshJobInfo {
    return this.queries.info(jobId);
  }

  /**
   * Jobs of every engine and process on the same root (running and recently finished, up to
   * `keepJobs`), oldest first, optionally for one collection. A job whose process ended is reported
   * `RefreshFailed` with code `PROCESS_ENDED`.
   */
  listRefreshExternalCollectionJobs(filter: { collectionName?: string; dbName?: string } = {}): RefreshJobInfo[] {
    return this.queries.list(filter);
  }

  /**
   * Resolves with the job's final info when it completes or fails; rejects if `signal` aborts the wait.
   * A job of another engine or process is followed through its stored record.
   */
  async waitForRefresh(jobId: string, options: { signal?: AbortSignal } = {}): Promise<RefreshJobInfo> {
    return this.queries.wait(jobId, options.signal);
  }

  /**
   * Cancels a pending or running refresh; it ends `RefreshFailed` with code `CANCELLED`. Returns false
   * if it had already finished. A job of another engine or process on the root is asked to stop through
   * the root and stops within a fraction of a second (follow it with {@link RefreshEngine.waitForRefresh}).
   */
  cancelRefresh(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) {
      if (isFinal(this.queries.info(jobId).state)) return false;
      this.records.requestCancel(jobId);
      return true;
    }
    if (isFinal(job.state)) return false;
    job.controller.abort();
    return true;
  }

  /**
   * Brings a collection whose stored state is damaged back to a usable state: re-points `CURRENT` at
   * the newest version file that parses and validates, sets aside (never deletes) version files that do
   * not, and rebuilds a garbled definition from the newest valid manifest. Takes the collection's lock.
   */
  async repairCollection(ref: CollectionRef): Promise<RepairReport> {
    const { dbName, collectionName } = this.ref(ref);
    this.state.cache.delete(`${dbName}.${collectionName}`);
    this.state.indexes.delete(`${dbName}.${collectionName}`);
    return repairCollection(this.store, this.holder, dbName, collectionName);
  }

  /** A committed manifest: the current version, or `version` while it is kept. */
  async getManifest(req: GetManifestRequest): Promise<Manifest> {
    const { dbName, collectionName } = this.ref(req);
    this.loadDefinition(dbName, collectionName);
    // A copy: the engine keeps the current manifest cached for the next refresh.
    if (req.version === undefined) return structuredClone(this.currentManifest(dbName, collectionName));
    return this.store.versions(dbName, collectionName).read(req.version);
  }

  /**
   * A committed manifest (the current version, or `version` while it is kept) to walk file by file
   * with bounded memory: a chunked version is read one chunk at a time and checked as it is walked
   * (a broken chunk throws `MANIFEST_CORRUPT` when reached). `lakemap show --json` streams this.
   *
   * @example
   * ```ts
   * const s = await engine.streamManifest({ collectionName: 'trips' });
   * for (const { file, segments } of s.files()) console.log(file.path, segments.length);
   * ```
   */
  async streamManifest(req: GetManifestRequest): Promise<ManifestStream> {
    return this.versionsOf(req).stream(req.version);
  }

  /**
   * Rows, files, segments and schema of a version (default: the current one), `countRows`-like: a
   * chunked version answers from its root alone, without loading files and segments.
   *
   * @example
   * ```ts
   * const { totalRows, files, segments } = await engine.getManifestSummary({ collectionName: 'trips' });
   * ```
   */
  async getManifestSummary(req: GetManifestRequest): Promise<ManifestSummary> {
    return this.versionsOf(req).summary(req.version);
  }

  /**
   * What changed from version `from` to version `to` (both still kept): files added, removed and
   * modified, segments added (with their ranges) and removed (ids) — what a consumer needs to update
   * its own index incrementally.
   *
   * @example
   * ```ts
   * const d = await engine.diffManifestVersions({ collectionName: 'trips' }, 3, 7);
   * console.log(d.segments.added.length, d.segments.removed.length);
   * ```
   */
  async diffManifestVersions(ref: CollectionRef, from: number, to: number): Promise<ManifestDiff> {
    const versions = this.versionsOf(ref);
    return diffManifestVersions((v) => versions.read(v), from, to);
  }

  /** Manifest versions kept on disk for a collection, ascending. */
  async listManifestVersions(ref: CollectionRef): Promise<number[]> {
    return this.versionsOf(ref).list();
  }

  /**
   * The live rows of one segment as Arrow record batches, in file order, one row group (or its part
   * in the segment) per batch, with the collection's field names and types. An `s3://` or `az://`
   * source is read with the engine's `storageOptions` by ranged GETs of the needed column chunks.
   *
   * @example
   * ```ts
   * const m = await engine.getManifest({ collectionName: 'trips' });
   * for await (const batch of engine.readSegment({ collectionName: 'trips', segmentId: m.segments[0]!.id, columns: ['id'] })) console.log(batch.numRows);
   * ```
   */
  async *readSegment(req: ReadSegmentRequest): AsyncGenerator<RecordBatch> {
    const manifest = await this.getManifest(req);
    yield* (await import('../read/read.js')).readSegmentRows(manifest, req.segmentId, { ...req, storage: this.settings.storage }); // loaded on first read: keeps start-up lean
  }

  /** Every segment of a manifest version, in manifest order, as {@link RefreshEngine.readSegment} reads them. */
  async *readCollection(req: ReadCollectionRequest): AsyncGenerator<RecordBatch> {
    const manifest = await this.getManifest(req);
    yield* (await import('../read/read.js')).readCollectionRows(manifest, { ...req, storage: this.settings.storage });
  }

  /**
   * Cancels running refreshes, waits for them to end (each fails with `CANCELLED` and keeps the
   * previous manifest), closes its watches, and ends the probe worker threads. Idempotent; later refreshes are refused
   * with `ENGINE_CLOSED`. Reading manifests and job states still works.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await closeWatches(this);
      const running = this.jobs.all().filter((j) => j.state !== 'RefreshCompleted' && j.state !== 'RefreshFailed');
      for (const j of running) j.controller.abort();
      await Promise.all(running.map((j) => j.finished()));
      await this.settings.workers?.close();
    })();
    return this.closing;
  }

  /**
   * Keeps a collection current: watches its source and refreshes it after changes (debounced), until
   * the handle (or the engine) is closed. The mechanism (native events, polling a directory or a
   * listing) is chosen from the source and shown in `status()`; see docs/watching.md.
   *
   * @example
   * ```ts
   * const watch = engine.watch({ collectionName: 'trips' }, { debounceMs: 500 });
   * await watch.ready;
   * watch.on('refreshend', (e) => console.log(e.job?.state, e.job?.version));
   * // … later
   * await watch.close();
   * ```
   */
  watch(ref: CollectionRef, options: WatchOptions = {}): WatchHandle {
    this.ref(ref);
    return new WatchHandle(watchHost(this, this.state), ref, options);
  }
  /** `await using engine = new RefreshEngine(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private currentManifest(dbName: string, collectionName: string): Manifest {
    return currentManifest(this.store, this.state.cache, dbName, collectionName);
  }

  private emitJob(e: RefreshJobEvent): void {
    try {
      this.records.write({ ...e.job, holder: this.holder }, e.type === 'progress');
    } catch {
      // The record is best effort once the job runs: a full root must not break the job's own state.
    }
    this.dispatchEvent(e);
  }

  private pruneRecords(): void {
    try {
      this.records.prune(this.settings.keepJobs);
    } catch {
      // pruning again after the next job
    }
  }

  private schemes(): string[] {
    return Object.keys(this.settings.storage.storage ?? {});
  }

  private ref(ref: CollectionRef): { dbName: string; collectionName: string } {
    return { collectionName: checkName('collection', ref?.collectionName), dbName: checkName('database', ref.dbName ?? 'default') };
  }

  /** The stored versions of an existing collection (`COLLECTION_NOT_FOUND` otherwise). */
  private versionsOf(ref: CollectionRef): VersionStore {
    const { dbName, collectionName } = this.ref(ref);
    this.loadDefinition(dbName, collectionName);
    return this.store.versions(dbName, collectionName);
  }

  private loadDefinition(dbName: string, collectionName: string): StoredCollection {
    const def = this.store.load(dbName, collectionName);
    if (!def) throw new LakemapError('COLLECTION_NOT_FOUND', `collection ${dbName}.${collectionName} does not exist`);
    return def;
  }
}
