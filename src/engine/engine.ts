import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import { checkFields, checkName, parseSpec } from './definition.js';
import { JobRegistry, RefreshJob, type RefreshJobEvent } from './jobs.js';
import { ManifestStore, type StoredCollection } from '../manifest/store.js';
import { runRefresh } from './refresh.js';
import { parseSource } from '../storage/source.js';
import type { ProbeWorkers } from '../scan/file-scan.js';
import { probeWorkers } from '../scan/probe-workers.js';
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
} from '../types.js';
import { builtinScanners } from '../../scanners/index.js';
import type { RecordBatch } from 'apache-arrow';
import { readCollectionRows, readSegmentRows } from '../read/read.js';
import type { ReadCollectionRequest, ReadSegmentRequest } from '../read/types.js';

/** What {@link RefreshEngine.refreshExternalCollection} returns. */
export interface RefreshStarted {
  /** Id of the new job, for progress, waiting and cancelling. */
  jobId: string;
}

/** Events of {@link RefreshEngine}: `statechange` and `progress`, both carrying a {@link RefreshJobEvent}. */
export type RefreshEngineEventType = 'statechange' | 'progress';

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
export class RefreshEngine extends EventTarget {
  /** Metadata directory (absolute). */
  readonly root: string;
  private readonly volumes: Record<string, string> | undefined;
  private readonly scanners = new Map<string, Scanner>();
  private readonly store: ManifestStore;
  private readonly jobs: JobRegistry;
  private readonly keepVersions: number;
  private readonly concurrency: number;
  private readonly cache = new Map<string, Manifest>();
  private readonly workers: ProbeWorkers | undefined;

  constructor(options: RefreshEngineOptions = {}) {
    super();
    this.root = path.resolve(options.root ?? '.lakemap');
    this.volumes = options.volumes ? { ...options.volumes } : undefined;
    this.store = new ManifestStore(this.root);
    this.keepVersions = positive(options.keepVersions ?? 10, 'keepVersions');
    this.jobs = new JobRegistry(positive(options.keepJobs ?? 1000, 'keepJobs'));
    this.concurrency = positive(options.concurrency ?? 64, 'concurrency');
    this.workers = options.workers === 0 ? undefined : probeWorkers(options.workers);
    for (const s of builtinScanners) this.registerScanner(s);
    for (const s of options.scanners ?? []) this.registerScanner(s);
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

  /** Creates a collection over an external source. Nothing is scanned until a refresh. */
  async createCollection(req: CreateCollectionRequest): Promise<CollectionInfo> {
    const collectionName = checkName('collection', req?.collectionName);
    const dbName = checkName('database', req.dbName ?? 'default');
    const externalSpec = parseSpec(req.externalSpec, this.formats());
    parseSource(req.externalSource, this.volumes);
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
    const def = this.loadDefinition(dbName, collectionName);
    const version = this.store.currentVersion(dbName, collectionName);
    if (version === 0) return { ...def, manifestVersion: 0 };
    const m = this.currentManifest(dbName, collectionName);
    return { ...def, externalSource: m.externalSource, externalSpec: m.externalSpec, manifestVersion: version };
  }

  /** Names of the collections of a database (default `default`). */
  async listCollections(options: { dbName?: string } = {}): Promise<string[]> {
    return this.store.list(checkName('database', options.dbName ?? 'default'));
  }

  /** Deletes a collection and its manifests (never the external data). Refused while it refreshes. */
  async dropCollection(ref: CollectionRef): Promise<void> {
    const { dbName, collectionName } = this.ref(ref);
    this.loadDefinition(dbName, collectionName);
    const active = this.jobs.active(`${dbName}.${collectionName}`);
    if (active) {
      throw new LakemapError('REFRESH_IN_PROGRESS', `collection ${dbName}.${collectionName} is being refreshed by job ${active.jobId}; cancel it first`);
    }
    this.cache.delete(`${dbName}.${collectionName}`);
    this.store.drop(dbName, collectionName);
  }

  /**
   * Starts a refresh and returns its job id at once, before any file is read. A source or spec given
   * here replaces the stored one for this refresh and, if it completes, from then on.
   * Refused with `REFRESH_IN_PROGRESS` while the collection has a pending or running refresh.
   */
  async refreshExternalCollection(req: RefreshRequest): Promise<RefreshStarted> {
    const { dbName, collectionName } = this.ref(req);
    const key = `${dbName}.${collectionName}`;
    const def = this.loadDefinition(dbName, collectionName);
    const active = this.jobs.active(key);
    if (active) {
      throw new LakemapError('REFRESH_IN_PROGRESS', `collection ${key} already has refresh job ${active.jobId} (${active.state})`);
    }
    const current = this.store.currentVersion(dbName, collectionName) > 0 ? this.currentManifest(dbName, collectionName) : undefined;
    const externalSpec = req.externalSpec !== undefined ? parseSpec(req.externalSpec, this.formats()) : (current?.externalSpec ?? def.externalSpec);
    const externalSource = req.externalSource ?? current?.externalSource ?? def.externalSource;
    const source = parseSource(externalSource, this.volumes);
    const scanner = this.scanners.get(externalSpec.format);
    if (!scanner) {
      throw new LakemapError('UNKNOWN_FORMAT', `unknown format "${externalSpec.format}"; known formats: ${this.formats().join(', ')}`);
    }
    const job = new RefreshJob(this.jobs.nextId(), { dbName, collectionName }, externalSource, externalSpec, (e) => this.dispatchEvent(e));
    if (req.signal) {
      if (req.signal.aborted) job.controller.abort();
      else req.signal.addEventListener('abort', () => job.controller.abort(), { once: true });
    }
    this.jobs.add(key, job);
    if (scanner.kind === 'file' && scanner.workerModule) this.workers?.warm(scanner.workerModule);
    const plan = {
      job,
      definition: { ...def, externalSource, externalSpec },
      source,
      scanner,
      store: this.store,
      keepVersions: this.keepVersions,
      concurrency: this.concurrency,
      ...(this.workers ? { workers: this.workers } : {}),
      onCommit: (m: Manifest) => this.cache.set(key, m),
      ...(current ? { cachedPrevious: current } : {}),
    };
    setImmediate(() => void runRefresh(plan));
    return { jobId: job.jobId };
  }

  /** The current info of a job. Throws `JOB_NOT_FOUND` for an unknown id. */
  getRefreshExternalCollectionProgress(jobId: string): RefreshJobInfo {
    return this.job(jobId).snapshot();
  }

  /** Jobs known to this engine (running and recently finished), oldest first, optionally for one collection. */
  listRefreshExternalCollectionJobs(filter: { collectionName?: string; dbName?: string } = {}): RefreshJobInfo[] {
    return this.jobs
      .all()
      .map((j) => j.snapshot())
      .filter((j) => (filter.collectionName === undefined || j.collectionName === filter.collectionName) && (filter.dbName === undefined || j.dbName === filter.dbName));
  }

  /** Resolves with the job's final info when it completes or fails; rejects if `signal` aborts the wait. */
  async waitForRefresh(jobId: string, options: { signal?: AbortSignal } = {}): Promise<RefreshJobInfo> {
    const done = this.job(jobId).finished();
    const { signal } = options;
    if (!signal) return done;
    if (signal.aborted) throw new LakemapError('CANCELLED', `stopped waiting for job ${jobId}`);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new LakemapError('CANCELLED', `stopped waiting for job ${jobId}`));
      signal.addEventListener('abort', onAbort, { once: true });
      void done.then((info) => {
        signal.removeEventListener('abort', onAbort);
        resolve(info);
      });
    });
  }

  /** Cancels a pending or running refresh; it ends `RefreshFailed` with code `CANCELLED`. Returns false if it had already finished. */
  cancelRefresh(jobId: string): boolean {
    const job = this.job(jobId);
    if (job.state === 'RefreshCompleted' || job.state === 'RefreshFailed') return false;
    job.controller.abort();
    return true;
  }

  /** A committed manifest: the current version, or `version` while it is kept. */
  async getManifest(req: GetManifestRequest): Promise<Manifest> {
    const { dbName, collectionName } = this.ref(req);
    this.loadDefinition(dbName, collectionName);
    // A copy: the engine keeps the current manifest cached for the next refresh.
    if (req.version === undefined) return structuredClone(this.currentManifest(dbName, collectionName));
    return this.store.read(dbName, collectionName, req.version);
  }

  /** Manifest versions kept on disk for a collection, ascending. */
  async listManifestVersions(ref: CollectionRef): Promise<number[]> {
    const { dbName, collectionName } = this.ref(ref);
    this.loadDefinition(dbName, collectionName);
    return this.store.versions(dbName, collectionName);
  }

  /**
   * The live rows of one segment as Arrow record batches, in file order, one row group (or its part
   * in the segment) per batch, with the collection's field names and types.
   *
   * @example
   * ```ts
   * const m = await engine.getManifest({ collectionName: 'trips' });
   * for await (const batch of engine.readSegment({ collectionName: 'trips', segmentId: m.segments[0]!.id, columns: ['id'] })) console.log(batch.numRows);
   * ```
   */
  async *readSegment(req: ReadSegmentRequest): AsyncGenerator<RecordBatch> {
    const manifest = await this.getManifest(req);
    yield* readSegmentRows(manifest, req.segmentId, req);
  }

  /** Every segment of a manifest version, in manifest order, as {@link RefreshEngine.readSegment} reads them. */
  async *readCollection(req: ReadCollectionRequest): AsyncGenerator<RecordBatch> {
    const manifest = await this.getManifest(req);
    yield* readCollectionRows(manifest, req);
  }

  /** Typed `addEventListener` for `statechange` and `progress`. */
  on(type: RefreshEngineEventType, listener: (event: RefreshJobEvent) => void): () => void {
    const l = listener as unknown as (event: Event) => void;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  private currentManifest(dbName: string, collectionName: string): Manifest {
    const key = `${dbName}.${collectionName}`;
    const cached = this.cache.get(key);
    // Another process may have committed since: the pointer is one small read.
    if (cached && cached.version === this.store.currentVersion(dbName, collectionName)) return cached;
    const m = this.store.read(dbName, collectionName);
    this.cache.set(key, m);
    return m;
  }

  private ref(ref: CollectionRef): { dbName: string; collectionName: string } {
    return { collectionName: checkName('collection', ref?.collectionName), dbName: checkName('database', ref.dbName ?? 'default') };
  }

  private loadDefinition(dbName: string, collectionName: string): StoredCollection {
    const def = this.store.load(dbName, collectionName);
    if (!def) throw new LakemapError('COLLECTION_NOT_FOUND', `collection ${dbName}.${collectionName} does not exist`);
    return def;
  }

  private job(jobId: string): RefreshJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new LakemapError('JOB_NOT_FOUND', `no refresh job ${JSON.stringify(jobId)} in this engine`);
    return job;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new LakemapError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return n;
}
