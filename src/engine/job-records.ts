import * as fs from 'node:fs';
import * as path from 'node:path';
import { holderAlive, type Holder } from '../manifest/lock.js';
import { readOr, rootIo, safeParse, writeFileAtomic } from '../manifest/store.js';
import type { RefreshJobInfo } from '../types.js';
import { isFinal } from './jobs.js';

/** A job as stored under the root: its info and who runs it. */
export interface JobRecord extends RefreshJobInfo {
  /** The engine and process running the job. */
  holder: Holder;
}

const JOBS_DIR = '.jobs';
const JOB_ID = /^[a-z0-9-]{1,64}$/;
/** Progress is written at most this often; state changes at once. */
const PROGRESS_EVERY_MS = 250;
/** How often a running job looks for a cancel request from another engine or process. */
const CANCEL_POLL_MS = 200;

/** Reason of a job whose process ended before the job did. */
export const PROCESS_ENDED_REASON = 'the process that ran it ended before the job finished';

/**
 * Job records under `<root>/.jobs/<jobId>.json`, so every engine and process on one root sees every job.
 * Written atomically (a reader sees a whole record); a record whose process died is reported failed.
 */
export class JobRecords {
  readonly dir: string;
  private readonly lastWrite = new Map<string, number>();

  constructor(readonly root: string) {
    this.dir = path.join(root, JOBS_DIR);
  }

  /** Stores a job's record; `progressOnly` writes are throttled. Errors are `ROOT_IO_ERROR`. */
  write(record: JobRecord, progressOnly = false): void {
    const now = Date.now();
    if (progressOnly && now - (this.lastWrite.get(record.jobId) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastWrite.set(record.jobId, now);
    if (isFinal(record.state)) this.lastWrite.delete(record.jobId);
    const file = this.file(record.jobId);
    rootIo(this.root, file, 'write the job record', () => {
      fs.mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(file, JSON.stringify(record), { durable: false });
    });
  }

  /** A job's info by id, undefined when unknown; a job whose process ended is reported failed. */
  read(jobId: string): RefreshJobInfo | undefined {
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) return undefined;
    const text = readOr(this.file(jobId));
    const record = text === undefined ? undefined : (safeParse(text) as JobRecord | undefined);
    return record && typeof record === 'object' && record.jobId === jobId ? resolve(record) : undefined;
  }

  /** Every stored job, oldest first. */
  list(): RefreshJobInfo[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => this.read(n.slice(0, -5)))
      .filter((j): j is RefreshJobInfo => j !== undefined);
  }

  /** Asks the engine running a job (in any process on the root) to cancel it. */
  requestCancel(jobId: string): void {
    const file = this.cancelFile(jobId);
    rootIo(this.root, file, 'write', () => fs.writeFileSync(file, ''));
  }

  /**
   * Watches for a cancel request for a job of this engine until `done` settles; calls `cancel` when one
   * comes. The timer does not keep the process alive.
   */
  watchCancel(jobId: string, done: Promise<unknown>, cancel: () => void): void {
    const file = this.cancelFile(jobId);
    const timer = setInterval(() => {
      if (fs.existsSync(file)) cancel();
    }, CANCEL_POLL_MS);
    timer.unref();
    void done.finally(() => {
      clearInterval(timer);
      fs.rmSync(file, { force: true });
    });
  }

  /** Deletes the oldest finished records beyond `keep`. */
  prune(keep: number): void {
    // Up to `keep` records in all, none can be beyond it: no need to read each (after every refresh).
    if (this.count() <= keep) return;
    const finished = this.list().filter((j) => isFinal(j.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - keep))) fs.rmSync(this.file(j.jobId), { force: true });
  }

  /** Record files in the folder (readable or not): at least as many as {@link JobRecords.list} returns. */
  private count(): number {
    try {
      return fs.readdirSync(this.dir).filter((n) => n.endsWith('.json')).length;
    } catch {
      return 0;
    }
  }

  private cancelFile(jobId: string): string {
    return path.join(this.dir, `${jobId}.cancel`);
  }

  private file(jobId: string): string {
    return path.join(this.dir, `${jobId}.json`);
  }
}

function resolve(record: JobRecord): RefreshJobInfo {
  const { holder, ...info } = record;
  if (!isFinal(info.state) && holder && !holderAlive(holder)) {
    return { ...info, state: 'RefreshFailed', errorCode: 'PROCESS_ENDED', reason: PROCESS_ENDED_REASON, endTime: info.endTime || Date.now() };
  }
  return info;
}
