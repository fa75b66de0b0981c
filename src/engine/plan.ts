import { LakemapError } from '../errors.js';
import { parseSpec } from './definition.js';
import { RefreshJob, type JobRegistry, type RefreshJobEvent } from './jobs.js';
import type { JobRecords } from './job-records.js';
import type { Holder } from '../manifest/lock.js';
import type { FileIndexCache } from '../manifest/file-index-cache.js';
import { startingPoint } from './repair.js';
import type { ManifestStore, StoredCollection } from '../manifest/store.js';
import { runRefresh, type RefreshPlan } from './refresh.js';
import { requestHint } from './refresh-hinted.js';
import { parseSource } from '../storage/source.js';
import { specStorageOptions } from '../storage/options.js';
import type { OpenStorageOptions } from '../storage/open.js';
import { WORKER_MIN_FILES, workerModule } from '../scan/listing.js';
import type { ProbeWorkers } from '../scan/file-scan.js';
import type { Scanner } from '../scanner.js';
import type { Manifest, RefreshRequest } from '../types.js';

/** The last committed manifest an engine holds per collection, with the incarnation it belongs to. */
export type ManifestCache = Map<string, { manifest: Manifest; incarnation: string | undefined }>;

/** What starting a refresh needs from its engine (its state, shared by reference). */
export interface EngineState {
  readonly store: ManifestStore;
  readonly jobs: JobRegistry;
  readonly records: JobRecords;
  readonly holder: Holder;
  readonly cache: ManifestCache;
  /** File indexes of versions not held whole, for the next no-change check. */
  readonly indexes: FileIndexCache;
  readonly scanners: ReadonlyMap<string, Scanner>;
  readonly volumes: Record<string, string> | undefined;
  readonly storage: OpenStorageOptions;
  readonly workers: ProbeWorkers | undefined;
  readonly keepVersions: number;
  readonly concurrency: number;
  formats(): string[];
  schemes(): string[];
  loadDefinition(dbName: string, collectionName: string): StoredCollection;
  emitJob(e: RefreshJobEvent): void;
  pruneRecords(): void;
}

/**
 * Takes the collection's lock, reads where the refresh starts (under the lock), registers and records
 * the job, and schedules it; returns the job's id before any file is read. On any failure before the
 * job exists, the lock is released and the error thrown to the caller.
 */
export function startRefresh(engine: EngineState, dbName: string, collectionName: string, req: RefreshRequest): string {
  const key = `${dbName}.${collectionName}`;
  engine.loadDefinition(dbName, collectionName);
  const requestedSpec = req.externalSpec !== undefined ? parseSpec(req.externalSpec, engine.formats()) : undefined;
  const hint = requestHint(req.changedPaths, `the source of ${dbName}.${collectionName}`, req.externalSource !== undefined || req.externalSpec !== undefined);
  const jobId = engine.jobs.nextId();
  const lock = engine.store.lock(dbName, collectionName, engine.holder, jobId, 'refresh');
  try {
    // Everything below is read under the lock: no other commit can slip in before this job's.
    const def = engine.loadDefinition(dbName, collectionName);
    const versions = engine.store.versions(dbName, collectionName);
    const start = startingPoint(versions, engine.cache.get(key), def.incarnation, { cache: engine.indexes, key });
    const head = start.previous ?? start.index?.header;
    const externalSpec = requestedSpec ?? head?.externalSpec ?? def.externalSpec;
    const externalSource = req.externalSource ?? head?.externalSource ?? def.externalSource;
    const source = parseSource(externalSource, engine.volumes, engine.schemes());
    specStorageOptions(externalSpec);
    const scanner = engine.scanners.get(externalSpec.format);
    if (!scanner) {
      throw new LakemapError('UNKNOWN_FORMAT', `unknown format "${externalSpec.format}"; known formats: ${engine.formats().join(', ')}`);
    }
    const job = new RefreshJob(jobId, { dbName, collectionName }, externalSource, externalSpec, (e) => engine.emitJob(e));
    job.note(undefined, start.warnings);
    engine.records.write({ ...job.snapshot(), holder: engine.holder });
    if (req.signal) {
      if (req.signal.aborted) job.controller.abort();
      else req.signal.addEventListener('abort', () => job.controller.abort(), { once: true });
    }
    engine.jobs.add(job);
    void job.finished().then(() => engine.pruneRecords());
    engine.records.watchCancel(jobId, job.finished(), () => job.controller.abort());
    // Threads start ahead only for a collection large enough to use them; else the listing starts them when it gets there.
    const wm = scanner.kind === 'file' ? workerModule(scanner) : undefined;
    if (wm && (start.previous?.files.length ?? start.index?.paths.length ?? 0) >= WORKER_MIN_FILES) engine.workers?.warm(wm.module, wm.lean);
    const plan: RefreshPlan = {
      job,
      definition: { ...def, externalSource, externalSpec },
      source,
      scanner,
      versions,
      lock,
      baseVersion: start.version,
      currentIncarnation: () => {
        const now = engine.store.load(dbName, collectionName);
        return now ? (now.incarnation ?? '') : undefined;
      },
      keepVersions: engine.keepVersions,
      chunkMemo: engine.indexes.chunks(key),
      concurrency: engine.concurrency,
      ...(engine.workers ? { workers: engine.workers } : {}),
      onCommit: (m: Manifest) => {
        engine.cache.set(key, { manifest: m, incarnation: def.incarnation });
        engine.indexes.delete(key); // the manifest is held whole now
      },
      ...(start.previous ? { previous: start.previous } : {}),
      ...(start.index && start.loadPrevious ? { previousIndex: start.index, loadPrevious: start.loadPrevious } : {}),
      warnings: start.warnings,
      storage: engine.storage,
      ...(hint ? { hint } : {}),
    };
    setImmediate(() => void runRefresh(plan));
    return jobId;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** The current manifest of a collection: the cached one while it is still current, else read (and cached). */
export function currentManifest(store: ManifestStore, cache: ManifestCache, dbName: string, collectionName: string): Manifest {
  const key = `${dbName}.${collectionName}`;
  const versions = store.versions(dbName, collectionName);
  const incarnation = store.load(dbName, collectionName)?.incarnation;
  const cached = cache.get(key);
  // Another engine or process may have committed since: the pointer is one small read.
  if (cached && cached.incarnation === incarnation && cached.manifest.version === versions.current()) return cached.manifest;
  const manifest = versions.read();
  cache.set(key, { manifest, incarnation });
  return manifest;
}
