import { LakemapError } from '../errors.js';
import { asLakemapError, type ProbeWorkers } from '../scan/file-scan.js';
import { scanFileSource, scanTableSource, SCANNED } from '../scan/sources.js';
import { buildManifest, diffChanges } from '../manifest/build.js';
import type { RefreshJob } from './jobs.js';
import type { ManifestStore, StoredCollection } from '../manifest/store.js';
import { openSource, type SourceLocation } from '../storage/source.js';
import type { OpenStorageOptions } from '../storage/open.js';
import type { Scanner } from '../scanner.js';
import { specStorageOptions } from '../storage/options.js';
import type { Manifest } from '../types.js';

/** Everything one refresh needs, decided before the job starts. */
export interface RefreshPlan {
  job: RefreshJob;
  definition: StoredCollection;
  source: SourceLocation;
  scanner: Scanner;
  store: ManifestStore;
  keepVersions: number;
  concurrency: number;
  /** Worker threads for probing, when available. */
  workers?: ProbeWorkers;
  /** Called once after a commit so the engine can cache the new manifest. */
  onCommit?(manifest: Manifest): void;
  /** The previous manifest if the engine has it cached. */
  cachedPrevious?: Manifest;
  /** Options and plugged-in backends for object-store sources (the job's signal is added). */
  storage?: OpenStorageOptions;
}

/** Runs a refresh job to its end; never throws (failures become the job's reason). */
export async function runRefresh(plan: RefreshPlan): Promise<void> {
  const { job, definition: def, store } = plan;
  let unlock: (() => void) | undefined;
  try {
    if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled before it started');
    job.start();
    unlock = store.lock(def.dbName, def.collectionName, job.jobId);
    const spec = def.externalSpec;
    const storage = await openSource(plan.source, { ...plan.storage, ...specStorageOptions(spec), signal: job.controller.signal });
    plan.scanner.validateSpec?.(spec);
    const previous = plan.cachedPrevious ?? readPrevious(store, def);
    const outcome =
      plan.scanner.kind === 'file'
        ? await scanFileSource(plan, storage, previous)
        : await scanTableSource(plan, plan.scanner, storage, previous);
    if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');

    const manifest = buildManifest(plan, storage, outcome, previous);
    const changes = diffChanges(previous, manifest);
    if (previous && previous.contentHash === manifest.contentHash) {
      job.complete(previous.version, false, changes);
      return;
    }
    job.setProgress(SCANNED + 2);
    store.commit(manifest, plan.keepVersions);
    plan.onCommit?.(manifest);
    job.complete(manifest.version, true, changes);
  } catch (err) {
    const e = LakemapError.is(err) ? err : asLakemapError(plan.scanner.format, plan.source.root, err);
    job.fail(e.code, e.message);
  } finally {
    unlock?.();
  }
}

function readPrevious(store: ManifestStore, def: StoredCollection): Manifest | undefined {
  if (store.currentVersion(def.dbName, def.collectionName) === 0) return undefined;
  return store.read(def.dbName, def.collectionName);
}

