// The timing shared by pollers: one pass at a time, the interval stretched to 20× the last pass.
import type { WatchClock } from './types.js';

/** How long the next pass waits: the configured interval, or 20× the last pass when that is longer. */
export function nextPollDelay(intervalMs: number, lastPassMs: number): number {
  return Math.max(intervalMs, Math.ceil(20 * lastPassMs));
}

/**
 * Runs `pass` every interval until stopped; a pass never overlaps the next. A pass may return how
 * many passes its cost is spread over (a full pass that runs once every N passes returns N), so a
 * rare expensive pass does not stretch the interval as if every pass cost as much.
 */
export class PollLoop {
  /** Duration of the last pass, ms. */
  lastPassMs = 0;
  /** The interval used after the last pass. */
  currentIntervalMs: number;
  private timer: unknown;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly clock: WatchClock,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<number | void>,
  ) {
    this.currentIntervalMs = intervalMs;
  }

  /** Runs the first pass now and schedules the next ones. */
  async start(): Promise<void> {
    await this.runPass();
  }

  /** Stops scheduling and waits for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async runPass(): Promise<void> {
    const t0 = performance.now();
    let spread = 1;
    const run = this.pass();
    this.running = run.then(() => undefined);
    try {
      spread = Math.max(1, (await run) || 1);
    } finally {
      this.running = undefined;
      this.lastPassMs = performance.now() - t0;
      this.currentIntervalMs = nextPollDelay(this.intervalMs, this.lastPassMs / spread);
      if (!this.stopped) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          if (!this.stopped) void this.runPass().catch(() => undefined);
        }, this.currentIntervalMs);
      }
    }
  }
}
