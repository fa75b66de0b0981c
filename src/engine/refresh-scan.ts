/**
 * A refresh once its listing showed a change (or a table scanner's snapshot is due): built from the
 * change alone when a chunked index allows, else scanned, built and committed whole. Loaded by
 * refresh.ts only when needed, so a no-change refresh never loads the scan, the build or apache-arrow.
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import { listFileSource, scanFileSource, scanTableSource, SCANNED } from '../scan/sources.js';
import type { SourceListing } from '../scan/listing.js';
import { buildManifest, diffChanges } from '../manifest/build.js';
import { refreshFromChange } from './refresh-change.js';
import type { Outcome, RefreshPlan } from './refresh.js';
import type { SourceStorage } from '../scanner.js';
import type { Manifest } from '../types.js';

/**
 * Refreshes from a file source's `listing` (taken `withStats` or not) that differs from the previous
 * version, or from a table scanner's snapshot; `plan.scanner` is the real scanner by now.
 */
export async function refreshScanned(plan: RefreshPlan, storage: SourceStorage, listing: SourceListing | undefined, withStats: boolean): Promise<Outcome> {
  const { job, definition: def } = plan;
  let previous = plan.previous;
  if (plan.scanner.kind === 'file' && listing) {
    // Something changed: from a chunked version's index, the next version is built from the change alone.
    // (An engine holding the previous manifest reads the chunked index too: cheaper than a whole build.)
    const held = previous && previous.version === plan.baseVersion && previous.fileSchemas.length === 1 && previous.totalRowsExact; // else it would decline
    const changeIndex = !withStats ? undefined : previous ? (held ? plan.versions.fileIndex(plan.baseVersion, plan.chunkMemo) : undefined) : plan.previousIndex;
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
  if (listing?.hinted && !previous) {
    // A listing from the previous version's index, but that version could not be loaded whole: list it all.
    job.hinted({ listing: 'full', paths: plan.hint?.paths.length ?? 0, reason: 'the previous version could not be loaded whole' });
    listing = await listFileSource(plan, storage, false);
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
