// A manual clock for timing logic: time moves only when a test says so.
import { vi } from 'vitest';
import type { WatchClock } from '../../src/watch/types.js';

/**
 * Stops `performance.now()` until the returned function is called. Pollers time their passes with it and
 * stretch the next interval to 20x a slow pass: on a loaded machine a pass of real time could push the
 * next poll past a fake clock's `advance(interval)`. Frozen, a pass takes no time and the interval is the
 * configured one, so a test of what a poll reports does not depend on how fast the machine is.
 */
export function freezePerformanceNow(): () => void {
  const at = performance.now();
  const spy = vi.spyOn(performance, 'now').mockImplementation(() => at);
  return () => spy.mockRestore();
}

/** Lets pending promise chains run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export class FakeClock implements WatchClock {
  private t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Pending timers' due times, relative to now. */
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
