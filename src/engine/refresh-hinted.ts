/**
 * A refresh told which paths may have changed (`RefreshRequest.changedPaths`): whether its listing
 * can be taken from the previous version's file index plus those paths alone (scan/hinted-listing.ts),
 * and what the job records about it. It falls back to the full listing whenever that is not certain
 * to give what a full listing would, given the hint: the reasons are recorded on the job (`hint`).
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import { LocalStorage } from '../storage/local.js';
import { normalizeRelative } from '../storage/paths.js';
import { listHinted, outermost } from '../scan/hinted-listing.js';
import { listHintedObjects } from '../scan/hinted-object-listing.js';
import { ObjectStorage } from '../storage/object-store.js';
import { listingRules, type SourceListing } from '../scan/listing.js';
import { madeOtherwise, type PreviousIndex } from '../manifest/file-index.js';
import type { RefreshPlan } from './refresh.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileScanner } from '../scanner.js';

/** What a refresh was asked to re-check, from its request. */
export interface RefreshHint {
  /** The changed paths, normalized (relative, `/`-separated, no `.` segments); `''` is the source root. */
  paths: readonly string[];
  /** Why the hint cannot be used whatever the source holds (the request replaced the source or spec). */
  declined?: string;
}

/** Beyond this many paths (or this share of the previous files) the full listing is taken: it costs about as much. */
export const MAX_HINTED_PATHS_FLOOR = 64;
export const MAX_HINTED_FRACTION = 0.25;
/**
 * The share for object stores: a hinted path costs two requests (run together), the full listing one
 * request per 1,000 keys (one after another), so at 1% of the keys both take about as many round trips.
 */
export const MAX_HINTED_OBJECT_FRACTION = 0.01;

/**
 * The request's `changedPaths`, checked and normalized at the call: `INVALID_ARGUMENT` unless a list
 * of strings, `PATH_ESCAPE` for an absolute path or one that climbs out with `..` (`source` names the
 * source in the message). Undefined when the request gave none.
 */
export function requestHint(changedPaths: unknown, source: string, overrides: boolean): RefreshHint | undefined {
  if (changedPaths === undefined) return undefined;
  if (!Array.isArray(changedPaths) || changedPaths.some((p) => typeof p !== 'string')) {
    throw new LakemapError('INVALID_ARGUMENT', 'changedPaths must be a list of paths (strings) relative to the source');
  }
  const paths = (changedPaths as string[]).map((p) => normalizeRelative(p, source));
  return { paths, ...(overrides ? { declined: 'the request replaces the source or spec' } : {}) };
}

/** Records on a table format's job that its hint was not used (table formats read their own metadata). */
export function tableIgnoresHint(plan: RefreshPlan): void {
  if (plan.hint) plan.job.hinted({ listing: 'full', paths: plan.hint.paths.length, reason: `${plan.scanner.format} is a table format: it reads its table metadata, changedPaths does not apply` });
}

/**
 * The listing of a file source from its previous version and the request's changed paths, or
 * undefined (with the reason recorded on the job when there was a hint) when the full listing must
 * be taken. `index` is the previous version's file index; `withStats` whether a listing with stats
 * is due (a previous version whose probes still hold).
 */
export async function hintedListing(plan: RefreshPlan, storage: ScanStorage, index: PreviousIndex | undefined, withStats: boolean): Promise<SourceListing | undefined> {
  const hint = plan.hint;
  if (!hint) return undefined;
  const job = plan.job;
  const full = (reason: string): undefined => {
    job.hinted({ listing: 'full', paths: hint.paths.length, reason });
    return undefined;
  };
  const why = hint.declined ?? declined(plan, storage, index, withStats, hint.paths);
  if (why !== undefined) return full(why);
  // Skipped files are not in the index, and a full listing would offer them to the scanner again.
  const paths = [...hint.paths, ...index!.header.skipped.map((s) => s.path)];
  const warnings: string[] = [];
  const rules = listingRules(plan.scanner as FileScanner, plan.definition.externalSpec);
  const listed =
    storage instanceof ObjectStorage
      ? await listHintedObjects(storage, rules, index!, paths)
      : listHinted(storage as LocalStorage, rules, index!, paths, (w) => warnings.push(w));
  if (!listed) return full('the previous version is not in path order');
  // An empty source fails the refresh (NO_FILES): that is said from a full listing only, since a hint
  // that lags the source (a watch's events for a file removed before those for its replacement) must not fail it.
  if (listed.length === 0) return full('the hinted listing found no files: the whole source is listed before calling it empty');
  job.hinted({ listing: 'hinted', paths: hint.paths.length });
  job.listing(listed.length);
  job.note(undefined, warnings);
  return { listed, warnings, hinted: true };
}

/** Why the full listing must be taken instead, or undefined when the hinted one gives the same. */
function declined(plan: RefreshPlan, storage: ScanStorage, index: PreviousIndex | undefined, withStats: boolean, paths: readonly string[]): string | undefined {
  const def = plan.definition;
  const spec = def.externalSpec;
  if (plan.baseVersion === 0 || !index) return 'the collection has no current version to start from';
  const objects = storage instanceof ObjectStorage;
  if (!(storage instanceof LocalStorage) && !objects) return 'the source is neither a local directory nor an object store: it is listed in full';
  if (plan.warnings.length > 0) return 'the refresh started with warnings about the previous version';
  if (spec.verify === 'footer') return 'verify "footer" reads every file again';
  const h = index.header;
  if (!withStats) return 'the previous version holds no files whose probes still hold';
  if (h.version !== plan.baseVersion) return 'the previous version was made from another source or format';
  const other = madeOtherwise(h, def, storage.root);
  if (other !== undefined) return other;
  // Listing warnings (names that are not UTF-8) anywhere in the source are renewed by a full listing only.
  if (!Array.isArray(h.warnings) || h.warnings.length > 0) return 'the previous version has warnings, which only a full listing renews';
  if (!Array.isArray(h.skipped)) return 'the previous version has no list of skipped files';
  if (paths.includes('')) return 'a changed path is the source root';
  const limit = Math.max(MAX_HINTED_PATHS_FLOOR, Math.floor((objects ? MAX_HINTED_OBJECT_FRACTION : MAX_HINTED_FRACTION) * index.paths.length));
  const n = outermost(paths).length + h.skipped.length;
  if (n > limit) return `${n} changed paths, more than the ${limit} a hinted listing takes for ${index.paths.length} files`;
  return undefined;
}
