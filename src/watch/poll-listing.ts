// Polling an object store's listing (size, ETag, last-modified) through the source's storage.
import type { SourceStorage } from '../scanner.js';
import type { ChangeFilter } from './filter.js';
import { PollLoop } from './poll-loop.js';
import type { ChangeSource, WatchClock } from './types.js';

/** Entries compared between two yields to the event loop. */
const BATCH = 5000;

/**
 * Polls `storage.list(prefix)` and reports the paths whose size, last-modified time or ETag
 * (when the storage gives one) changed, appeared or vanished. Object stores send no events a
 * library can subscribe to without cloud plumbing (queues, notifications), so a listing is the
 * portable signal. For table formats only the commit prefix is listed.
 *
 * Each pass is a whole listing compared with the last one that succeeded, and a key is a path (there
 * are no folders to rename), so the paths reported between two refreshes are every change the store
 * made: complete enough to be a refresh's `changedPaths`. Every changed path a refresh may list goes
 * to `noted`, those that do not trigger a refresh (temporary names, see {@link ChangeFilter.lists}) too.
 */
export class ListingPollSource implements ChangeSource {
  readonly mechanism = 'poll-listing' as const;
  private seen: Map<string, string> | undefined;
  private readonly loop: PollLoop;
  private changed: (paths: string[]) => void = () => {};
  private failed: (error: Error) => void = () => {};

  constructor(
    private readonly storage: SourceStorage,
    private readonly filter: ChangeFilter,
    readonly reason: string,
    options: { clock: WatchClock; intervalMs: number; prefix?: string; noted?: (paths: string[]) => void },
  ) {
    this.prefix = options.prefix ?? '';
    this.noted = options.noted;
    this.loop = new PollLoop(options.clock, options.intervalMs, () => this.tick());
  }

  private readonly prefix: string;
  private readonly noted: ((paths: string[]) => void) | undefined;

  /** Poll interval now in use and the last pass's duration. */
  get timing(): { pollIntervalMs: number; lastPollMs: number } {
    return { pollIntervalMs: this.loop.currentIntervalMs, lastPollMs: Math.round(this.loop.lastPassMs) };
  }

  async start(changed: (paths: string[]) => void, failed: (error: Error) => void): Promise<void> {
    this.changed = changed;
    this.failed = failed;
    await this.loop.start();
  }

  async close(): Promise<void> {
    await this.loop.stop();
  }

  private async tick(): Promise<void> {
    try {
      const { changed, noted } = await this.diff();
      if (noted.length > 0) this.noted?.(noted); // first: the refresh the changed paths trigger takes them too
      if (changed.length > 0) this.changed(changed);
    } catch (e) {
      this.failed(e as Error);
    }
  }

  /** One listing; returns the changed paths that trigger a refresh (none on the first pass, which only records). */
  async pass(): Promise<string[]> {
    return (await this.diff()).changed;
  }

  /** One listing against the last: paths that trigger a refresh, and paths a refresh may list. */
  private async diff(): Promise<{ changed: string[]; noted: string[] }> {
    const listed = await this.storage.list(this.prefix);
    const now = new Map<string, string>();
    const changed: string[] = [];
    const noted: string[] = [];
    const tracked = (p: string): boolean => this.filter.accepts(p) || (this.noted !== undefined && this.filter.lists?.(p) === true);
    const report = (p: string): void => {
      if (this.filter.accepts(p)) changed.push(p);
      if (this.noted && this.filter.lists?.(p)) noted.push(p);
    };
    let n = 0;
    for (const f of listed) {
      if (++n % BATCH === 0) await new Promise((r) => setImmediate(r));
      if (!tracked(f.path)) continue;
      const etag = (f as { etag?: string }).etag ?? '';
      const sig = `${f.size}\0${f.mtimeMs}\0${etag}`;
      now.set(f.path, sig);
      if (this.seen && this.seen.get(f.path) !== sig) report(f.path);
    }
    if (this.seen) for (const p of this.seen.keys()) if (!now.has(p)) report(p);
    this.seen = now;
    return { changed, noted };
  }
}
