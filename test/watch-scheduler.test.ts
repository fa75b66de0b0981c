// Debounce, max wait, single flight and backoff of the watch scheduler, on a manual clock (no real waiting).
import { describe, expect, it } from 'vitest';
import { RefreshScheduler, type RunOutcome } from '../src/watch/scheduler.js';
import { FakeClock, settle } from './helpers/fake-clock.js';

/** A scheduler whose runs are recorded and finished by the test. */
function rig(opts: { debounceMs?: number; maxWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const starts: number[] = [];
  const finishers: ((o: RunOutcome) => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  const s = new RefreshScheduler({
    clock,
    debounceMs: opts.debounceMs ?? 1000,
    maxWaitMs: opts.maxWaitMs ?? 5000,
    backoffMs: 1000,
    maxBackoffMs: 8000,
    busyRetryMs: 1500,
    run: () => {
      starts.push(clock.now());
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<RunOutcome>((resolve) => finishers.push((o) => { running--; resolve(o); }));
    },
  });
  const t0 = clock.now();
  return { clock, s, starts: () => starts.map((t) => t - t0), finish: async (o: RunOutcome = 'done') => { finishers.shift()!(o); await settle(); }, maxRunning: () => maxRunning };
}

describe('watch scheduler', () => {
  it('waits for debounceMs of quiet after the last hint (trailing debounce)', async () => {
    const r = rig();
    r.s.hint();
    await r.clock.advance(500);
    r.s.hint();
    await r.clock.advance(900);
    r.s.hint(); // t = 1400
    await r.clock.advance(999);
    expect(r.starts()).toEqual([]);
    await r.clock.advance(1);
    expect(r.starts()).toEqual([2400]);
    await r.finish();
    await r.clock.advance(10_000);
    expect(r.starts()).toEqual([2400]); // one refresh for the whole burst
  });

  it('refreshes at maxWaitMs after the first hint while hints keep coming', async () => {
    const r = rig({ debounceMs: 1000, maxWaitMs: 3000 });
    for (let i = 0; i < 12; i++) {
      r.s.hint();
      await r.clock.advance(400);
    }
    // Hints every 400 ms never leave 1000 ms of quiet: only maxWait lets a refresh through.
    expect(r.starts()).toEqual([3000]);
    await r.finish(); // at 4800; the last hint was at 4400
    await r.clock.advance(599);
    expect(r.starts()).toEqual([3000]);
    await r.clock.advance(1);
    expect(r.starts()).toEqual([3000, 5400]); // the hints during the run were not lost
  });

  it('runs one refresh at a time; hints during it give exactly one follow-up', async () => {
    const r = rig({ debounceMs: 100, maxWaitMs: 1000 });
    r.s.hint();
    await r.clock.advance(100);
    expect(r.starts()).toEqual([100]);
    for (let i = 0; i < 20; i++) {
      r.s.hint();
      await r.clock.advance(200);
    }
    expect(r.starts()).toEqual([100]); // still running: nothing else started
    expect(r.s.pending).toBe(true);
    await r.finish();
    await r.clock.advance(100);
    expect(r.starts()).toEqual([100, 4100]); // maxWait from the first hint during the run has passed: at once
    await r.finish();
    await r.clock.advance(10_000);
    expect(r.starts()).toHaveLength(2);
    expect(r.maxRunning()).toBe(1);
  });

  it('retries a failed refresh with doubling backoff and resets after a success', async () => {
    const r = rig({ debounceMs: 10, maxWaitMs: 100 });
    r.s.hint(true);
    await r.clock.advance(0);
    await r.finish('failed');
    expect(r.s.failures).toBe(1);
    await r.clock.advance(999);
    expect(r.starts()).toEqual([0]);
    await r.clock.advance(1);
    expect(r.starts()).toEqual([0, 1000]);
    await r.finish('failed');
    await r.clock.advance(2000);
    expect(r.starts()).toEqual([0, 1000, 3000]);
    await r.finish('done');
    expect(r.s.failures).toBe(0);
    expect(r.s.pending).toBe(false);
    await r.clock.advance(60_000);
    expect(r.starts()).toHaveLength(3);
  });

  it('treats a busy collection as "try again later", not as a failure', async () => {
    const r = rig({ debounceMs: 10, maxWaitMs: 100 });
    r.s.hint(true);
    await r.clock.advance(0);
    await r.finish('busy');
    expect(r.s.failures).toBe(0);
    expect(r.s.pending).toBe(true);
    await r.clock.advance(1500);
    expect(r.starts()).toEqual([0, 1500]);
  });

  it('close() cancels the timers and waits for the running refresh', async () => {
    const r = rig();
    r.s.hint(true);
    await r.clock.advance(0);
    r.s.hint();
    let closed = false;
    const closing = r.s.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    await r.finish();
    await closing;
    await r.clock.advance(60_000);
    expect(r.starts()).toHaveLength(1);
    expect(r.clock.pending()).toEqual([]);
  });
});
