/**
 * Listing a file source, and the spec test that decides whether earlier probes still hold: all a
 * no-change refresh runs before it decides. Kept apart from the scan (prober, schemas, apache-arrow),
 * which a refresh loads only once something changed.
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import { fileGlobs, globMatcher } from '../engine/definition.js';
import type { RefreshPlan } from '../engine/refresh.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileScanner, FileStat, ScanContext, Scanner } from '../scanner.js';
import type { ProbeWorkers } from './file-scan.js';
import { statListed } from './stat-share.js';

// Progress budget: listing up to LISTED, scanning up to SCANNED, then building and committing.
export const LISTED = 3;
export const SCANNED = 95;

/** A file source's listing, taken once and shared by the no-change check and the scan. */
export interface SourceListing {
  listed: FileStat[];
  /** Warnings of the listing (names that are not UTF-8 …), already noted on the job. */
  warnings: string[];
  /** True when taken from the previous version and the request's changed paths (engine/refresh-hinted.ts). */
  hinted?: boolean;
}

/**
 * Lists a file source for a refresh; `withStats` when a previous version may let files be reused
 * (its file count and scanner options say so), since only then are sizes and mtimes worth a stat.
 */
export async function listFileSource(plan: RefreshPlan, storage: ScanStorage, withStats: boolean): Promise<SourceListing> {
  const scanner = plan.scanner as Extract<Scanner, { kind: 'file' }>;
  const warnings: string[] = [];
  const job = plan.job;
  const wm = plan.workers ? workerModule(scanner) : undefined;
  let warmed = false;
  const progress = (found: number): void => {
    job.listing(found);
    // A listing this large will use the workers (probing, or stat'ing): start them while it goes on.
    if (wm && !warmed && found >= WORKER_MIN_FILES) {
      warmed = true;
      plan.workers!.warm(wm.module, wm.lean);
    }
  };
  const listed = await listSourceFiles(storage, scanner, plan.definition.externalSpec, withStats, warnings, progress, job.controller.signal, plan.workers);
  plan.job.note(undefined, warnings);
  return { listed, warnings };
}

/**
 * Lists the source's files for a file scanner: `files` globs, or every file with its extensions;
 * hidden and `_` names skipped. Names that are not valid UTF-8 are skipped with a warning in `warnings`.
 * On a storage that lists in steps, the event loop runs about every {@link LIST_YIELD_MS} ms (or
 * 2,048 entries), `progress` gets the count of files found so far at the first of those turns and
 * then every {@link LIST_REPORT_MS} ms, and `signal` cancels the listing there.
 */
export async function listSourceFiles(
  storage: ScanStorage,
  scanner: FileScanner,
  spec: ScanContext['spec'],
  withStats: boolean,
  warnings: string[] = [],
  progress?: (found: number) => void,
  signal?: AbortSignal,
  workers?: ProbeWorkers,
): Promise<FileStat[]> {
  const { matches, visible } = listingRules(scanner, spec);
  const onSkip = (w: string): number => warnings.push(w);
  let all: FileStat[];
  // On local disk the stats come after the names, for the selected files only, and a worker takes a
  // share of them on large listings.
  const statLater = withStats && storage.statListedSync !== undefined && storage.listSteps !== undefined;
  if (storage.listSteps) {
    const steps = storage.listSteps('', visible, withStats && !statLater, onSkip);
    let last = performance.now();
    let reported = -1;
    let step = 0;
    for (;;) {
      const r = steps.next();
      if (r.done) {
        all = r.value;
        break;
      }
      if (++step % LIST_YIELD_STEPS !== 0 && performance.now() - last < LIST_YIELD_MS) continue;
      // Reports are rarer than yields: each one is an event with a copy of the job's info.
      if (progress && (reported < 0 || last - reported >= LIST_REPORT_MS)) {
        progress(r.value);
        reported = last;
      }
      await yieldToEventLoop();
      if (signal?.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled while listing');
      last = performance.now();
    }
  } else if (storage.listSync) all = storage.listSync('', visible, withStats, onSkip);
  else if (storage.listFiltered) all = await storage.listFiltered('', visible, withStats, onSkip);
  else all = (await storage.list('')).filter((f) => f.path.split('/').every(visible));
  const selected = all.filter((f) => matches(f.path));
  if (statLater) await statListed(storage as ScanStorage & Required<Pick<ScanStorage, 'statListedSync'>>, selected, workers, signal);
  return selected;
}

/**
 * What a file source's listing keeps, shared with the hinted listing (scan/hinted-listing.ts) so
 * both apply the same rules: `visible` for each name met on the way (hidden and `_` names are never
 * entered or listed), `matches` for each file's path (the `files` globs, else the scanner's extensions).
 */
export function listingRules(scanner: FileScanner, spec: ScanContext['spec']): { visible: (name: string) => boolean; matches: (path: string) => boolean } {
  const globs = fileGlobs(spec);
  const matches = globs ? globMatcher(globs) : (p: string) => scanner.extensions.some((e) => p.endsWith(e));
  return { visible: (name) => !name.startsWith('.') && !name.startsWith('_'), matches };
}

/** Files below which starting a worker costs more than it saves. */
export const WORKER_MIN_FILES = 1000;

/** What a probe worker loads for `scanner`: its split decoder (lean) or the whole scanner; undefined when neither. */
export function workerModule(scanner: FileScanner): { module: { url: string; exportName: string }; lean: boolean } | undefined {
  if (scanner.split) return { module: scanner.split.module, lean: true };
  if (scanner.workerModule) return { module: scanner.workerModule, lean: false };
  return undefined;
}

/** How long a listing runs between two turns of the event loop (and progress reports)… */
export const LIST_YIELD_MS = 8;
/** …or how many of the storage's steps (256 entries each for local disk), whichever comes first. */
const LIST_YIELD_STEPS = 8;
/** Least time between two progress reports of a listing (the first comes at its first yield). */
const LIST_REPORT_MS = 100;

/** Spec keys the engine itself reads; changing them never changes what a probe returns. */
const ENGINE_KEYS = new Set(['files', 'segment_max_rows', 'skip_invalid', 'allow_empty', 'verify']);

/** True when two specs give a scanner the same options, so a probe's earlier answer still holds. */
export function sameScannerOptions(a: ScanContext['spec'], b: ScanContext['spec']): boolean {
  const pick = (s: ScanContext['spec']): string =>
    JSON.stringify(Object.keys(s).filter((k) => !ENGINE_KEYS.has(k)).sort().map((k) => [k, s[k]]));
  return pick(a) === pick(b);
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
