import { LakemapError, type LakemapErrorCode } from '../errors.js';
import { asLakemapError, type ProbeWorkers } from '../scan/file-scan.js';
import { listFileSource, scanFileSource, scanTableSource, SCANNED, type SourceListing } from '../scan/sources.js';
import { sameScannerOptions } from '../scan/file-scan.js';
import { indexOfManifest, sameFiles, stableJson, unchangedSet, type PreviousIndex } from '../manifest/file-index.js';
import { buildManifest, diffChanges } from '../manifest/build.js';
import { refreshFromChange } from './refresh-change.js';
import { keptAll, tableUnchanged } from './table-unchanged.js';
import type { RefreshJob } from './jobs.js';
import type { CollectionLock } from '../manifest/lock.js';
import type { StoredCollection } from '../manifest/store.js';
import type { VersionStore } from '../manifest/versions.js';
import { openSource, tableLocation, type SourceLocation } from '../storage/source.js';
import type { OpenStorageOptions } from '../storage/open.js';
import type { Scanner } from '../scanner.js';
import { specStorageOptions } from '../storage/options.js';
import type { Manifest, RefreshChangeSet } from '../types.js';

/** Everything one refresh needs, decided at the call, under the collection's lock. */
export interface RefreshPlan {
  job: RefreshJob;
  definition: StoredCollection;
  source: SourceLocation;
  scanner: Scanner;
  /** The collection's versions. */
  versions: VersionStore;
  /** The lock taken at the call; the job releases it when it ends, whatever the outcome. */
  lock: CollectionLock;
  /** The version `CURRENT` named when the lock was taken (0: none); the commit checks it still does. */
  baseVersion: number;
  /** Reads the collection's incarnation now (undefined when it is gone). */
  currentIncarnation(): string | undefined;
  keepVersions: number;
  concurrency: number;
  /** Worker threads for probing, when available. */
  workers?: ProbeWorkers;
  /** Called once after a commit so the engine can cache the new manifest. */
  onCommit?(manifest: Manifest): void;
  /** The previous manifest, validated, when it may be reused; absent for a full scan. */
  previous?: Manifest;
  /** Instead of `previous`: the previous version's validated file index, enough for a no-change check. */
  previousIndex?: PreviousIndex;
  /** Loads and validates the whole previous manifest (with `previousIndex`), when something changed. */
  loadPrevious?: () => { manifest?: Manifest; warning?: string };
  /** Warnings found at the call (an invalid previous manifest, a recovered pointer), carried into the manifest. */
  warnings: string[];
  /** Options and plugged-in backends for object-store sources (the job's signal is added). */
  storage?: OpenStorageOptions;
}

type Outcome = { ok: true; version: number; committed: boolean; changes: RefreshChangeSet } | { ok: false; code: LakemapErrorCode; reason: string; path?: string };

/** Runs a refresh job to its end; never throws (failures become the job's reason); always releases the lock. */
export async function runRefresh(plan: RefreshPlan): Promise<void> {
  const { job } = plan;
  let outcome: Outcome;
  try {
    outcome = await run(plan);
  } catch (err) {
    const e = LakemapError.is(err) ? err : asLakemapError(plan.scanner.format, plan.source.root, err);
    outcome = { ok: false, code: e.code, reason: e.message, ...(e.path !== undefined ? { path: e.path } : {}) };
  } finally {
    plan.lock.release();
  }
  // The lock is free before the job reports its end, so whoever waits on it can refresh again at once.
  if (outcome.ok) job.complete(outcome.version, outcome.committed, outcome.changes);
  else job.fail(outcome.code, outcome.reason, outcome.path);
}

async function run(plan: RefreshPlan): Promise<Outcome> {
  const { job, definition: def } = plan;
  let previous = plan.previous;
  if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled before it started');
  job.start();
  const storage = await openSource(tableLocation(plan.source, plan.scanner).loc, { ...plan.storage, ...specStorageOptions(def.externalSpec), signal: job.controller.signal });
  plan.scanner.validateSpec?.(def.externalSpec);
  const previousTable = previous ?? plan.previousIndex;
  if (previousTable && (await tableUnchanged(plan, storage, previousTable))) {
    const changes = keptAll(previousTable);
    job.setProgress(SCANNED, changes.files.unchanged, changes.files.unchanged);
    return { ok: true, version: plan.baseVersion, committed: false, changes };
  }
  let listing: SourceListing | undefined;
  if (plan.scanner.kind === 'file') {
    // The listing (with stats when files may be reused) against the previous file index: when every
    // file is as it was, nothing is probed, built, hashed or written, and no chunk entry is read.
    const index = previous ? indexOfManifest(previous) : plan.previousIndex;
    const withStats = index !== undefined && index.paths.length > 0 && sameScannerOptions(index.header.externalSpec, def.externalSpec);
    listing = await listFileSource(plan, storage, withStats);
    if (index && withStats && unchangedSince(plan, storage.root, index, listing)) {
      job.setProgress(SCANNED, listing.listed.length, listing.listed.length);
      return { ok: true, version: plan.baseVersion, committed: false, changes: unchangedSet(index) };
    }
    // Something changed: from a chunked version's index, the next version is built from the change alone.
    // (An engine holding the previous manifest reads the chunked index too: cheaper than a whole build.)
    const held = previous && previous.version === plan.baseVersion && previous.fileSchemas.length === 1 && previous.totalRowsExact; // else it would decline
    const changeIndex = !withStats ? undefined : previous ? (held ? plan.versions.fileIndex(plan.baseVersion) : undefined) : plan.previousIndex;
    const fromChange = changeIndex ? await refreshFromChange(plan, storage, changeIndex, listing) : undefined;
    if (fromChange) return { ok: true, ...fromChange };
  }
  if (!previous && plan.loadPrevious) {
    const loaded = plan.loadPrevious();
    previous = loaded.manifest;
    if (loaded.warning) {
      plan.warnings.push(loaded.warning);
      job.note(undefined, [loaded.warning]);
    }
  }
  const scanned =
    plan.scanner.kind === 'file' ? await scanFileSource(plan, storage, previous, listing) : await scanTableSource(plan, plan.scanner, storage, previous);
  if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
  if (plan.warnings.length) scanned.warnings = [...plan.warnings, ...scanned.warnings];

  const built = buildManifest(plan, storage, scanned, previous);
  // Numbered from the pointer read under the lock, even when the previous manifest was not reusable.
  const manifest: Manifest = { ...built, version: plan.baseVersion + 1 };
  const changes = diffChanges(previous, manifest);
  if (previous && previous.version === plan.baseVersion && previous.contentHash === manifest.contentHash && plan.warnings.length === 0) {
    return { ok: true, version: previous.version, committed: false, changes };
  }
  job.setProgress(SCANNED + 2);
  await plan.versions.commit(
    manifest,
    { version: plan.baseVersion, incarnation: def.incarnation ?? '', currentIncarnation: plan.currentIncarnation, lockHeld: () => plan.lock.stillHeld() },
    plan.keepVersions,
    previous, // lets the chunked store write only what changed since it
  );
  plan.onCommit?.(manifest);
  return { ok: true, version: manifest.version, committed: true, changes };
}

/**
 * True when a refresh would produce the previous version's content again: the same spec, source,
 * resolved root and fields, no skipped files to retry, no warnings to record, no footer verification,
 * and a listing that shows exactly the previous files with their sizes and mtimes (the same test the
 * scan uses to carry a file over without opening it).
 */
function unchangedSince(plan: RefreshPlan, resolvedRoot: string, index: PreviousIndex, listing: SourceListing): boolean {
  const def = plan.definition;
  const h = index.header;
  if (plan.warnings.length > 0 || listing.warnings.length > 0 || def.externalSpec.verify === 'footer') return false;
  if (h.version !== plan.baseVersion || h.format !== def.externalSpec.format || h.externalSource !== def.externalSource || h.resolvedSource !== resolvedRoot) return false;
  if (!Array.isArray(h.skipped) || h.skipped.length > 0) return false;
  if (stableJson(h.externalSpec) !== stableJson(def.externalSpec) || stableJson(h.fields) !== stableJson(def.fields)) return false;
  return sameFiles(index, listing.listed);
}
