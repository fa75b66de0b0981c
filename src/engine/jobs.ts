import { randomBytes } from 'node:crypto';
import { LakemapError, type LakemapErrorCode } from '../errors.js';
import type { ExternalSpec } from '../scanner.js';
import type { RefreshChangeSet, RefreshHintUse, RefreshJobInfo, RefreshJobState, SkippedFile } from '../types.js';

/** The only state changes a refresh job may make. */
const TRANSITIONS: Readonly<Record<RefreshJobState, readonly RefreshJobState[]>> = {
  RefreshPending: ['RefreshInProgress', 'RefreshFailed'],
  RefreshInProgress: ['RefreshCompleted', 'RefreshFailed'],
  RefreshCompleted: [],
  RefreshFailed: [],
};

/** True for the states a job never leaves. */
export function isFinal(state: RefreshJobState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** Event dispatched by the engine whenever a job changes state or progress. */
export class RefreshJobEvent extends Event {
  /** The job after the change. */
  readonly job: RefreshJobInfo;
  /** The state before the change (equal to `job.state` for progress events). */
  readonly previousState: RefreshJobState;

  /** `type` is `statechange` or `progress`. */
  constructor(type: 'statechange' | 'progress', job: RefreshJobInfo, previousState: RefreshJobState) {
    super(type);
    this.job = job;
    this.previousState = previousState;
  }
}

/** One refresh job: its state, progress and outcome; the only place its state changes. */
export class RefreshJob {
  readonly jobId: string;
  readonly controller = new AbortController();
  private info: RefreshJobInfo;
  private readonly done: Promise<RefreshJobInfo>;
  private resolveDone!: (info: RefreshJobInfo) => void;
  private readonly emit: (event: RefreshJobEvent) => void;

  constructor(
    jobId: string,
    collection: { collectionName: string; dbName: string },
    externalSource: string,
    externalSpec: ExternalSpec,
    emit: (event: RefreshJobEvent) => void,
  ) {
    this.jobId = jobId;
    this.emit = emit;
    this.info = {
      jobId,
      collectionName: collection.collectionName,
      dbName: collection.dbName,
      state: 'RefreshPending',
      progress: 0,
      reason: '',
      errorCode: '',
      externalSource,
      externalSpec,
      startTime: 0,
      endTime: 0,
      filesTotal: 0,
      filesDone: 0,
      version: 0,
      committed: false,
      skipped: [],
      warnings: [],
    };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** A copy of the job's current info. */
  snapshot(): RefreshJobInfo {
    return structuredClone(this.info);
  }

  /** The current state. */
  get state(): RefreshJobState {
    return this.info.state;
  }

  /** Resolves with the final info when the job completes or fails. */
  finished(): Promise<RefreshJobInfo> {
    return this.done;
  }

  /** Pending → in progress. */
  start(): void {
    this.transition('RefreshInProgress', { startTime: Date.now() });
  }

  /** Raises progress to `percent` (capped at 99 until completion); never lowers it. */
  setProgress(percent: number, filesDone?: number, filesTotal?: number): void {
    if (isFinal(this.info.state)) return;
    if (filesTotal !== undefined) this.info.filesTotal = filesTotal;
    if (filesDone !== undefined) this.info.filesDone = filesDone;
    const p = Math.min(99, Math.max(0, Math.floor(percent)));
    if (p <= this.info.progress) return;
    this.info.progress = p;
    this.emit(new RefreshJobEvent('progress', this.snapshot(), this.info.state));
  }

  /** While listing (`filesTotal` still 0): `found` files so far, as `filesDone`, in a progress event. */
  listing(found: number): void {
    if (this.info.state !== 'RefreshInProgress' || this.info.filesTotal !== 0 || found === this.info.filesDone) return;
    this.info.filesDone = found;
    this.emit(new RefreshJobEvent('progress', this.snapshot(), this.info.state));
  }

  /** Adds a skipped file or a warning to the job's record. */
  note(skipped?: SkippedFile, warnings?: readonly string[]): void {
    if (skipped) this.info.skipped.push(skipped);
    if (warnings?.length) this.info.warnings.push(...warnings);
  }

  /** Records how the listing used the request's changed paths. */
  hinted(hint: RefreshHintUse): void {
    this.info.hint = { ...hint };
  }

  /** In progress → completed. */
  complete(version: number, committed: boolean, changes: RefreshChangeSet): void {
    this.transition('RefreshCompleted', {
      progress: 100,
      version,
      committed,
      changes,
      filesDone: this.info.filesTotal,
      endTime: Date.now(),
    });
  }

  /** Pending or in progress → failed, with a reason a person can act on and the failing file's path when known. */
  fail(code: LakemapErrorCode, reason: string, path?: string): void {
    this.transition('RefreshFailed', { reason, errorCode: code, ...(path !== undefined ? { errorPath: path } : {}), endTime: Date.now() });
  }

  private transition(to: RefreshJobState, patch: Partial<RefreshJobInfo>): void {
    const from = this.info.state;
    if (!TRANSITIONS[from].includes(to)) {
      throw new LakemapError('ILLEGAL_TRANSITION', `job ${this.jobId}: ${from} → ${to} is not allowed`);
    }
    this.info = { ...this.info, ...patch, state: to };
    const snap = this.snapshot();
    this.emit(new RefreshJobEvent('statechange', snap, from));
    if (isFinal(to)) this.resolveDone(snap);
  }
}

/**
 * Jobs of one engine by id: running ones, and finished ones kept up to a bound. (One refresh per collection
 * is enforced by the collection's lock, across engines and processes, not here.)
 */
export class JobRegistry {
  private readonly jobs = new Map<string, RefreshJob>();

  constructor(private readonly keepFinished: number) {}

  /** A new job id, unique across engines and processes (time first, so ids sort by start). */
  nextId(): string {
    return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
  }

  /** Adds a new pending job; finished jobs beyond the bound are dropped when it ends. */
  add(job: RefreshJob): void {
    this.jobs.set(job.jobId, job);
    void job.finished().then(() => this.prune());
  }

  /** A job by id. */
  get(jobId: string): RefreshJob | undefined {
    return this.jobs.get(jobId);
  }

  /** All jobs, oldest first. */
  all(): RefreshJob[] {
    return [...this.jobs.values()];
  }

  private prune(): void {
    let finished = 0;
    for (const job of this.jobs.values()) if (isFinal(job.state)) finished++;
    for (const [id, job] of this.jobs) {
      if (finished <= this.keepFinished) break;
      if (isFinal(job.state)) {
        this.jobs.delete(id);
        finished--;
      }
    }
  }
}
