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
    options: { clock: WatchClock; intervalMs: number; prefix?: string },
  ) {
    this.prefix = options.prefix ?? '';
    this.loop = new PollLoop(options.clock, options.intervalMs, () => this.tick());
  }

  private readonly prefix: string;

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
      const changed = await this.pass();
      if (changed.length > 0) this.changed(changed);
    } catch (e) {
      this.failed(e as Error);
    }
  }

  /** One listing; returns the changed paths (none on the first pass, which only records). */
  async pass(): Promise<string[]> {
    const listed = await this.storage.list(this.prefix);
    const now = new Map<string, string>();
    const changed: string[] = [];
    let n = 0;
    for (const f of listed) {
      if (++n % BATCH === 0) await new Promise((r) => setImmediate(r));
      if (!this.filter.accepts(f.path)) continue;
      const etag = (f as { etag?: string }).etag ?? '';
      const sig = `${f.size}\0${f.mtimeMs}\0${etag}`;
      now.set(f.path, sig);
      if (this.seen && this.seen.get(f.path) !== sig) changed.push(f.path);
    }
    if (this.seen) for (const p of this.seen.keys()) if (!now.has(p)) changed.push(p);
    this.seen = now;
    return changed;
  }
}
