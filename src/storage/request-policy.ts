/**
 * How every object-store request runs: at most `concurrency` in flight, each with a timeout, retried
 * with exponential backoff and full jitter when the failure is transient (throttling, 5xx, connection
 * reset, timeout), and abandoned at once when the job's signal aborts. One module so S3, Azure and any
 * future backend behave alike.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { LakemapError } from '../errors.js';

/** Tuning of the request policy every object-store request runs under; every field has a default. */
export interface RequestPolicyOptions {
  /** Requests in flight at once. Default 64. */
  concurrency?: number;
  /** Retries after the first attempt of a transient failure. Default 5. */
  retries?: number;
  /** Time allowed for one attempt, ms. Default 30,000. */
  timeoutMs?: number;
  /** First backoff ceiling, ms; doubles per retry. Default 100. */
  backoffMs?: number;
  /** Largest backoff ceiling, ms. Default 5,000. */
  maxBackoffMs?: number;
}

/** What a backend says about a failed attempt. */
export type FailureKind = 'transient' | 'permanent';

/** Counts of what a policy did, for tests and benchmarks. */
export interface RequestCounts {
  /** Attempts started (first tries and retries). */
  attempts: number;
  /** Attempts that were retries. */
  retries: number;
}

/** Thrown inside an attempt when its own timeout fires (told apart from the job's cancellation). */
export class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

/** Runs requests under one concurrency limit, timeout and retry rule. */
export class RequestPolicy {
  readonly concurrency: number;
  readonly retries: number;
  readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** What this policy did so far. */
  readonly counts: RequestCounts = { attempts: 0, retries: 0 };

  constructor(options: RequestPolicyOptions = {}, private readonly signal?: AbortSignal) {
    this.concurrency = positiveInt(options.concurrency ?? 64, 'concurrency');
    this.retries = nonNegativeInt(options.retries ?? 5, 'retries');
    this.timeoutMs = positiveInt(options.timeoutMs ?? 30_000, 'timeoutMs');
    this.backoffMs = nonNegativeInt(options.backoffMs ?? 100, 'backoffMs');
    this.maxBackoffMs = nonNegativeInt(options.maxBackoffMs ?? 5_000, 'maxBackoffMs');
    // Each request in flight listens to the job's signal: up to `concurrency` listeners is expected.
    if (signal) setMaxListeners(Math.max(getMaxListeners(signal), 2 * this.concurrency + 10), signal);
  }

  /**
   * Runs `attempt` until it succeeds, fails permanently (per `classify`) or runs out of retries; the
   * last error is rethrown as is (the caller turns it into a LakemapError). `attempt` gets a signal
   * that aborts on its timeout or on the job's cancellation.
   */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, classify: (err: unknown) => FailureKind): Promise<T> {
    for (let n = 0; ; n++) {
      this.checkCancelled();
      await this.acquire();
      let result: { ok: true; value: T } | { ok: false; err: unknown };
      try {
        this.counts.attempts++;
        if (n > 0) this.counts.retries++;
        result = { ok: true, value: await this.once(attempt) };
      } catch (err) {
        result = { ok: false, err };
      } finally {
        this.release();
      }
      if (result.ok) return result.value;
      this.checkCancelled();
      const transient = result.err instanceof AttemptTimeout || classify(result.err) === 'transient';
      if (!transient || n >= this.retries) throw result.err;
      await this.sleep(Math.random() * Math.min(this.maxBackoffMs, this.backoffMs * 2 ** n)); // full jitter
    }
  }

  private async once<T>(attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    const timeout = new AttemptTimeout(this.timeoutMs);
    const timer = setTimeout(() => ctl.abort(timeout), this.timeoutMs);
    const onCancel = (): void => ctl.abort(this.signal!.reason);
    this.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      return await attempt(ctl.signal);
    } catch (err) {
      if (ctl.signal.aborted && ctl.signal.reason === timeout) throw timeout;
      throw err;
    } finally {
      clearTimeout(timer);
      this.signal?.removeEventListener('abort', onCancel);
    }
  }

  private checkCancelled(): void {
    if (this.signal?.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled');
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.active--;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onCancel = (): void => {
        clearTimeout(timer);
        reject(new LakemapError('CANCELLED', 'refresh cancelled'));
      };
      const timer = setTimeout(() => {
        this.signal?.removeEventListener('abort', onCancel);
        resolve();
      }, ms);
      this.signal?.addEventListener('abort', onCancel, { once: true });
    });
  }
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results in input order. The first
 * failure stops new calls and is rethrown once the calls in flight have settled.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const bad = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (bad) throw bad.reason;
  return out;
}

/**
 * Replaces every secret value (and anything that looks like a signature or key in a URL or
 * connection string) in `text`, so an SDK's message can be shown safely.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out
    .replace(/([?&](?:sig|se|sv|sp|st|spr|srt|ss|sr|skoid|sktid|skt|ske|sks|skv|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s"']*/gi, '$1***')
    .replace(/((?:AccountKey|SharedAccessSignature)=)[^;\s"']*/gi, '$1***');
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new LakemapError('INVALID_ARGUMENT', `storage option ${name} must be a positive integer`);
  return n;
}

function nonNegativeInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new LakemapError('INVALID_ARGUMENT', `storage option ${name} must be a non-negative integer`);
  return n;
}
