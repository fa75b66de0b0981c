import { LakemapError } from '../errors.js';

/** Default bytes of footers (and other reads past the tail) that a process holds in flight. */
export const DEFAULT_READ_BUDGET = 256 * 1024 * 1024;

/**
 * Bytes of file reads in flight, bounded. A read waits until it fits, except when no other
 * budgeted read is in flight (so one probe can always make progress and waiting cannot deadlock);
 * a read larger than the whole budget is refused before anything is allocated.
 */
export class ReadBudget {
  private used = 0;
  private holders = 0;
  private readonly waiting: { n: number; grant(): void }[] = [];
  /** Highest `used` seen, for tests and diagnostics. */
  peak = 0;

  constructor(readonly limit: number) {}

  /** Bytes currently held. */
  get inFlight(): number {
    return this.used;
  }

  /**
   * Waits for `n` bytes of budget and returns their release (idempotent). Refused with
   * `CORRUPT_FILE` naming `path` when `n` exceeds the whole budget; with `CANCELLED` on `signal`.
   */
  async acquire(n: number, path: string, signal?: AbortSignal): Promise<() => void> {
    if (n > this.limit) {
      throw new LakemapError('CORRUPT_FILE', `${path}: claims a ${n}-byte read, more than the ${this.limit}-byte memory budget for reads in flight`, { path });
    }
    if (!this.fits(n) || this.waiting.length > 0) {
      await new Promise<void>((resolve, reject) => {
        const entry = { n, grant: resolve };
        this.waiting.push(entry);
        signal?.addEventListener(
          'abort',
          () => {
            const i = this.waiting.indexOf(entry);
            if (i < 0) return;
            this.waiting.splice(i, 1);
            reject(new LakemapError('CANCELLED', 'refresh cancelled'));
            this.pump();
          },
          { once: true },
        );
      });
    } else this.take(n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
      this.holders--;
      this.pump();
    };
  }

  private fits(n: number): boolean {
    return this.holders === 0 || this.used + n <= this.limit;
  }

  private take(n: number): void {
    this.used += n;
    this.holders++;
    if (this.used > this.peak) this.peak = this.used;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.n)) {
      const w = this.waiting.shift()!;
      this.take(w.n);
      w.grant();
    }
  }
}

/** The budget of this thread (each probe worker thread has its own share). */
export let readBudget = new ReadBudget(DEFAULT_READ_BUDGET);

/** Replaces this thread's budget (probe workers take their share of the process budget). */
export function setReadBudget(limit: number): ReadBudget {
  if (readBudget.limit !== limit) readBudget = new ReadBudget(limit);
  return readBudget;
}
