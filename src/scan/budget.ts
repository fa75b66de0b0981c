import { LakemapError } from '../errors.js';

/** Default bytes of footers (and other reads past the tail) that a process holds in flight. */
export const DEFAULT_READ_BUDGET = 256 * 1024 * 1024;

// The state is one Int32 shared by every thread of the process (probe workers get the buffer with
// their job), so one compare-and-swap updates both counts together:
// bits 0-21 = KiB in flight (up to 4 GiB), bits 22-30 = reads holding budget.
const KIB_BITS = 22;
const KIB_MASK = (1 << KIB_BITS) - 1;
/** How long a waiting read sleeps before it looks again (a release also wakes it). */
const RECHECK_MS = 50;

/**
 * Bytes of file reads in flight in the whole process, across threads. A read waits until it fits,
 * except when no other budgeted read is in flight (so some probe can always make progress and
 * waiting cannot deadlock); a read larger than the whole budget is refused before anything is
 * allocated. Counted in KiB, rounded up.
 *
 * Tails (`{ tail: true }`) count their bytes but are not holders: a probe holds its tail while it
 * waits for its footer read, so if tails were holders, lanes holding tails could wait on each other
 * for ever. A footer read may thus start over tails that fill the budget; the overshoot is at most
 * the tails in flight (concurrency × tail bytes). A tail itself waits until it fits or nothing is held.
 */
export class ReadBudget {
  private readonly state: Int32Array;
  private readonly limitKiB: number;
  /** Highest number of bytes in flight this thread saw (for tests and diagnostics). */
  peak = 0;

  /** `shared` is the state of another thread's budget, to share it; omitted, a new budget. */
  constructor(
    readonly limit: number,
    readonly shared: SharedArrayBuffer = new SharedArrayBuffer(4),
  ) {
    this.state = new Int32Array(shared);
    this.limitKiB = Math.ceil(limit / 1024);
  }

  /** Bytes currently held, by all threads (KiB granularity). */
  get inFlight(): number {
    return (Atomics.load(this.state, 0) & KIB_MASK) * 1024;
  }

  /**
   * Waits for `n` bytes of budget and returns their release (idempotent). Refused with
   * `CORRUPT_FILE` naming `path` when `n` exceeds the whole budget; with `CANCELLED` on `signal`.
   */
  async acquire(n: number, path: string, signal?: AbortSignal, options: { tail?: boolean } = {}): Promise<() => void> {
    if (n > this.limit) {
      throw new LakemapError('CORRUPT_FILE', `${path}: claims a ${n}-byte read, more than the ${this.limit}-byte memory budget for reads in flight`, { path });
    }
    const k = Math.ceil(n / 1024);
    const holder = options.tail ? 0 : 1;
    for (;;) {
      if (signal?.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
      const seen = Atomics.load(this.state, 0);
      const used = seen & KIB_MASK;
      const holders = seen >>> KIB_BITS;
      const free = holder ? holders === 0 : used === 0;
      if (free || used + k <= this.limitKiB) {
        const next = ((holders + holder) << KIB_BITS) | (used + k);
        if (Atomics.compareExchange(this.state, 0, seen, next) !== seen) continue; // another thread moved first
        this.peak = Math.max(this.peak, (used + k) * 1024);
        break;
      }
      await waitForChange(this.state, seen);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      Atomics.sub(this.state, 0, (holder << KIB_BITS) | k);
      Atomics.notify(this.state, 0);
    };
  }
}

/** Resolves when the state changes from `seen` (another read released), or after a short while. */
function waitForChange(state: Int32Array, seen: number): Promise<unknown> {
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(state, 0, seen, RECHECK_MS);
  return typeof w.value === 'string' ? Promise.resolve() : w.value;
}

/** `Atomics.waitAsync` (Node 16+; typed from ES2024, beyond this project's lib). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { value: Promise<string> | string };
}

/** The budget of this process; probe worker threads share its state through their job. */
export let readBudget = new ReadBudget(DEFAULT_READ_BUDGET);

/** In a probe worker: use the state of the engine thread's budget. */
export function shareReadBudget(limit: number, shared: SharedArrayBuffer): ReadBudget {
  if (readBudget.shared !== shared) readBudget = new ReadBudget(limit, shared);
  return readBudget;
}
