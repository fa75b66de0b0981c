// When to refresh: trailing debounce, a max wait, one refresh in flight, one follow-up, backoff.
import type { WatchClock } from './types.js';

/** How a refresh attempt ended, as the scheduler needs to know it. */
export type RunOutcome =
  /** Completed (committed or not). */
  | 'done'
  /** Failed: retry with backoff. */
  | 'failed'
  /** Someone else is refreshing (another engine or process): try again later, not an error. */
  | 'busy'
  /** Cancelled because the watch is closing. */
  | 'cancelled';

export interface SchedulerOptions {
  clock: WatchClock;
  debounceMs: number;
  maxWaitMs: number;
  /** First retry delay after a failure; doubles per failure up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Delay before trying again when another refresh holds the collection. */
  busyRetryMs: number;
  run(): Promise<RunOutcome>;
  /** Called once a run's outcome is counted (failures, backoff, pending) and no refresh runs: the moment to tell listeners. */
  settled?(outcome: RunOutcome): void;
}

/**
 * Turns a stream of change hints into refreshes. Hints while idle arm a trailing timer (`debounceMs`
 * after the last hint, but no later than `maxWaitMs` after the first), so a continuous ingest still
 * refreshes. Hints while a refresh runs only set a dirty flag, which gives exactly one follow-up.
 */
export class RefreshScheduler {
  private dirty = false;
  private firstHint = 0;
  private lastHint = 0;
  private timer: unknown;
  private timerAt = 0;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Refreshes in a row that failed. */
  failures = 0;
  /** Epoch ms before which no retry starts (after a failure or a busy collection). */
  notBefore = 0;

  constructor(private readonly o: SchedulerOptions) {}

  /** True while a change waits for a refresh. */
  get pending(): boolean {
    return this.dirty;
  }

  /** True while a refresh runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** A change may have happened. `now` skips the debounce (used for the first refresh). */
  hint(now = false): void {
    if (this.closed) return;
    const t = this.o.clock.now();
    if (!this.dirty) this.firstHint = t;
    this.dirty = true;
    this.lastHint = now ? t - this.o.debounceMs : t;
    if (now) this.firstHint = t - this.o.maxWaitMs;
    this.arm();
  }

  /** Stops timers and waits for a running refresh to end. */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.running;
  }

  private due(): number {
    const settled = Math.min(this.lastHint + this.o.debounceMs, this.firstHint + this.o.maxWaitMs);
    return Math.max(settled, this.notBefore);
  }

  private arm(): void {
    if (this.closed || !this.dirty || this.running) return;
    const at = this.due();
    if (this.timer !== undefined && this.timerAt === at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, Math.max(0, at - this.o.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    if (this.closed || this.running || !this.dirty) return;
    // A hint may have pushed the deadline after this timer was set.
    if (this.due() > this.o.clock.now()) return this.arm();
    this.dirty = false;
    this.running = this.attempt();
  }

  private async attempt(): Promise<void> {
    let outcome: RunOutcome;
    try {
      outcome = await this.o.run();
    } catch {
      outcome = 'failed'; // run() reports its own errors; this only keeps the watch alive
    }
    const now = this.o.clock.now();
    if (outcome === 'done') {
      this.failures = 0;
      this.notBefore = 0;
    } else if (outcome === 'failed' || outcome === 'busy') {
      if (outcome === 'failed') this.failures++;
      const delay = outcome === 'failed' ? Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (this.failures - 1)) : this.o.busyRetryMs;
      this.notBefore = now + delay;
      if (!this.dirty) {
        this.dirty = true;
        this.firstHint = now - this.o.maxWaitMs; // nothing new to wait for: only the backoff applies
        this.lastHint = now - this.o.debounceMs;
      }
    }
    this.running = undefined;
    this.o.settled?.(outcome);
    this.arm();
  }
}
