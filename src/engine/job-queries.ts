import { LakemapError } from '../errors.js';
import type { JobRecords } from './job-records.js';
import { isFinal, type JobRegistry } from './jobs.js';
import type { RefreshJobInfo } from '../types.js';

/** How often a wait on a job of another engine or process re-reads its record. */
const POLL_MS = 100;

/**
 * Job queries of one engine: its own jobs from memory (exact, live), every other job on the same root
 * from the stored records.
 */
export class JobQueries {
  constructor(
    private readonly jobs: JobRegistry,
    private readonly records: JobRecords,
  ) {}

  /** A job's info from any engine or process on the root; `JOB_NOT_FOUND` when none has it. */
  info(jobId: string): RefreshJobInfo {
    const own = this.jobs.get(jobId);
    if (own) return own.snapshot();
    const stored = this.records.read(jobId);
    if (!stored) throw new LakemapError('JOB_NOT_FOUND', `no refresh job ${JSON.stringify(jobId)} in this engine or under ${this.records.root}`);
    return stored;
  }

  /** Jobs of every engine on the root, oldest first, optionally for one collection. */
  list(filter: { collectionName?: string; dbName?: string }): RefreshJobInfo[] {
    const byId = new Map<string, RefreshJobInfo>();
    for (const j of this.records.list()) byId.set(j.jobId, j);
    for (const j of this.jobs.all()) byId.set(j.jobId, j.snapshot());
    return [...byId.values()]
      .filter((j) => (filter.collectionName === undefined || j.collectionName === filter.collectionName) && (filter.dbName === undefined || j.dbName === filter.dbName))
      .sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
  }

  /** Resolves with the job's final info; a job of another engine or process is polled. */
  async wait(jobId: string, signal: AbortSignal | undefined): Promise<RefreshJobInfo> {
    const cancelled = (): LakemapError => new LakemapError('CANCELLED', `stopped waiting for job ${jobId}`);
    if (signal?.aborted) throw cancelled();
    const own = this.jobs.get(jobId);
    const done: Promise<RefreshJobInfo> = own ? own.finished() : this.poll(jobId, signal);
    if (!signal) return done;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(cancelled());
      signal.addEventListener('abort', onAbort, { once: true });
      done.then(
        (info) => {
          signal.removeEventListener('abort', onAbort);
          resolve(info);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private async poll(jobId: string, signal: AbortSignal | undefined): Promise<RefreshJobInfo> {
    for (;;) {
      const info = this.info(jobId);
      if (isFinal(info.state) || signal?.aborted) return info;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
