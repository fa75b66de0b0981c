import { LakemapError, type LakemapErrorCode } from '../errors.js';
import type { ProbeWorkers } from '../scan/file-scan.js';
import { listFileSource, sameScannerOptions, SCANNED, type SourceListing } from '../scan/listing.js';
import { indexOfManifest, sameFiles, stableJson, unchangedSet, type PreviousIndex } from '../manifest/file-index.js';
import { loadScanner } from '../../scanners/builtin.js';
import { keptAll, tableUnchanged } from './table-unchanged.js';
import { hintedListing, tableIgnoresHint, type RefreshHint } from './refresh-hinted.js';
import type { RefreshJob } from './jobs.js';
import type { ChunkIndexMemo } from '../manifest/chunk-read.js';
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
  /** Chunk indexes this engine parsed for the collection before (see `ChunkIndexMemo`). */
  chunkMemo?: ChunkIndexMemo;
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
  /** The request's changed paths, when it gave them (see refresh-hinted.ts). */
  hint?: RefreshHint;
}

/** How a refresh ended, before the job reports it. */
export type Outcome = { ok: true; version: number; committed: boolean; changes: RefreshChangeSet } | { ok: false; code: LakemapErrorCode; reason: string; path?: string };

/** Runs a refresh job to its end; never throws (failures become the job's reason); always releases the lock. */
export async function runRefresh(plan: RefreshPlan): Promise<void> {
  const { job } = plan;
  let outcome: Outcome;
  try {
    outcome = await run(plan);
  } catch (err) {
    const e = LakemapError.is(err) ? err : (await import('../scan/prober.js')).asLakemapError(plan.scanner.format, plan.source.root, err);
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
  const previous = plan.previous;
  if (job.controller.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled before it started');
  job.start();
  // A table scanner is needed from here on (its spec check, its snapshot); a file scanner only once something changed.
  if (plan.scanner.kind === 'table') plan.scanner = await loadScanner(plan.scanner);
  if (plan.scanner.kind === 'table') tableIgnoresHint(plan);
  const storage = await openSource(tableLocation(plan.source, plan.scanner).loc, { ...plan.storage, ...specStorageOptions(def.externalSpec), signal: job.controller.signal });
  plan.scanner.validateSpec?.(def.externalSpec);
  const previousTable = previous ?? plan.previousIndex;
  if (previousTable && (await tableUnchanged(plan, storage, previousTable))) {
    const changes = keptAll(previousTable);
    job.setProgress(SCANNED, changes.files.unchanged, changes.files.unchanged);
    return { ok: true, version: plan.baseVersion, committed: false, changes };
  }
  let listing: SourceListing | undefined;
  let withStats = false;
  if (plan.scanner.kind === 'file') {
    // The listing (with stats when files may be reused) against the previous file index: when every
    // file is as it was, nothing is probed, built, hashed or written, and no chunk entry is read.
    const index = previous ? indexOfManifest(previous) : plan.previousIndex;
    withStats = index !== undefined && index.paths.length > 0 && sameScannerOptions(index.header.externalSpec, def.externalSpec);
    listing = (await hintedListing(plan, storage, index, withStats)) ?? (await listFileSource(plan, storage, withStats));
    if (index && withStats && unchangedSince(plan, storage.root, index, listing)) {
      job.setProgress(SCANNED, listing.listed.length, listing.listed.length);
      return { ok: true, version: plan.baseVersion, committed: false, changes: unchangedSet(index) };
    }
    plan.scanner = await loadScanner(plan.scanner);
  }
  // Loaded only now: the scan, the build and apache-arrow with them are not needed when nothing changed.
  return (await import('./refresh-scan.js')).refreshScanned(plan, storage, listing, withStats);
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
