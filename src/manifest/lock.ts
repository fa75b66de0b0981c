import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { LakemapError } from '../errors.js';
import { tempName } from './store.js';

/** Who holds a lock or runs a job, precisely enough to tell a live holder from a dead one or a reused pid. */
export interface Holder {
  /** Process id. */
  pid: number;
  /** Random token of the engine (one per `RefreshEngine`), so two engines of one process differ. */
  token: string;
  /** The process's start time as the OS reports it (`/proc/<pid>/stat` on Linux), '' where unknown. */
  startTime: string;
  /** Host name: a pid means nothing on another host. */
  hostname: string;
}

/** What a lock file holds. */
export interface LockRecord extends Holder {
  /** The job that holds the lock ('' for a drop or a repair). */
  jobId: string;
  /** What holds it: `refresh`, `drop` or `repair`. */
  purpose: string;
  /** Epoch ms when it was taken. */
  acquiredAt: number;
}

// Tokens of the locks held by this process, shared by every copy of this module loaded in it.
const HELD_KEY = Symbol.for('lakemap.heldLockTokens');
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[HELD_KEY] as Set<string> | undefined) ?? new Set<string>();
(globalThis as Record<symbol, unknown>)[HELD_KEY] = held;

let ownStart: string | undefined;

/** The start time of a process ('' where the OS does not tell), used to detect a reused pid. */
export function processStartTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** A holder describing this process and one engine of it. */
export function makeHolder(token = randomBytes(8).toString('hex')): Holder {
  ownStart ??= processStartTime(process.pid);
  return { pid: process.pid, token, startTime: ownStart, hostname: os.hostname() };
}

/**
 * Whether a holder still runs. In this process: only while it holds `token` (another engine of this
 * process is alive). Elsewhere on this host: its pid runs with the same start time. On another host it
 * cannot be checked and counts as alive.
 */
export function holderAlive(h: Partial<Holder>, token?: string): boolean {
  if (typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return false;
  if (h.hostname !== undefined && h.hostname !== os.hostname()) return true;
  ownStart ??= processStartTime(process.pid);
  if (h.pid === process.pid && (!h.startTime || !ownStart || h.startTime === ownStart)) {
    return token === undefined ? true : held.has(token);
  }
  if (!pidRuns(h.pid)) return false;
  const start = h.startTime ? processStartTime(h.pid) : '';
  return !(start && start !== h.startTime); // a different start time: the pid was reused
}

/** "job J of process P on H" — how messages name a holder. */
export function describeHolder(r: Partial<LockRecord>): string {
  const what = r.jobId ? `job ${r.jobId}` : (r.purpose ?? 'an operation');
  const self = r.pid === process.pid && r.hostname === os.hostname() ? ', in this process' : '';
  return `${what} of process ${r.pid ?? '?'} on ${r.hostname ?? '?'}${self} (engine ${r.token?.slice(0, 8) ?? '?'}, since ${r.acquiredAt ? new Date(r.acquiredAt).toISOString() : '?'})`;
}

/** A lock this process holds; {@link CollectionLock.release} is safe to call more than once. */
export class CollectionLock {
  private released = false;
  constructor(
    readonly file: string,
    readonly record: LockRecord,
  ) {}

  /** True while the lock file still names this holder (nobody broke or replaced it). */
  stillHeld(): boolean {
    return !this.released && readLock(this.file)?.token === this.record.token && readLock(this.file)?.acquiredAt === this.record.acquiredAt;
  }

  /** Removes the lock file if it is still ours (a dropped and re-created collection's lock is left alone). */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(lockKey(this.record));
    if (readLock(this.file)?.acquiredAt === this.record.acquiredAt && readLock(this.file)?.token === this.record.token) {
      fs.rmSync(this.file, { force: true });
    }
  }
}

/**
 * Takes a lock file: written complete under a temporary name, then linked into place, which fails if
 * the file exists (so a reader never sees a half-written lock). A lock whose holder ended is taken over,
 * under a short-lived guard so two processes never both take over the same stale lock.
 * Refuses a live holder with `REFRESH_IN_PROGRESS` naming it.
 */
export function acquireLock(file: string, holder: Holder, jobId: string, purpose: string, what: string): CollectionLock {
  const record: LockRecord = { ...holder, jobId, purpose, acquiredAt: Date.now() };
  // Two takes by one engine within a millisecond must still differ.
  while (held.has(lockKey(record))) record.acquiredAt += 1;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (linkExclusive(file, JSON.stringify(record))) {
      held.add(lockKey(record));
      return new CollectionLock(file, record);
    }
    const current = readLock(file);
    if (current && holderAlive(current, lockKey(current))) {
      throw new LakemapError('REFRESH_IN_PROGRESS', `${what} is locked by ${describeHolder(current)}`, { path: file });
    }
    breakStaleLock(file, current);
  }
  throw new LakemapError('REFRESH_IN_PROGRESS', `${what}: could not take the lock ${file}`, { path: file });
}

/** The record in a lock file, undefined when there is none or it cannot be parsed. */
export function readLock(file: string): LockRecord | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as LockRecord;
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

function lockKey(r: Pick<LockRecord, 'token' | 'acquiredAt'>): string {
  return `${r.token}@${r.acquiredAt}`;
}

/** Creates `file` with `data`, complete, only if it does not exist; false when it does. */
export function linkExclusive(file: string, data: string): boolean {
  const tmp = tempName(file);
  fs.writeFileSync(tmp, data, { flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const GUARD_STALE_MS = 10_000;

function breakStaleLock(file: string, seen: LockRecord | undefined): void {
  const guard = `${file}.takeover`;
  if (!linkExclusive(guard, String(process.pid))) {
    // Someone else is taking it over; a guard left by a killed process expires.
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
    } catch {
      // gone already
    }
    return;
  }
  try {
    const now = readLock(file);
    // Remove it only if it is still the stale lock we judged (or still unreadable).
    if ((now === undefined && seen === undefined) || (now && seen && now.token === seen.token && now.acquiredAt === seen.acquiredAt)) {
      fs.rmSync(file, { force: true });
    }
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Whether a temporary file (`.tmp-…-<pid>-<12 hex>`, as `tempName` and `linkExclusive` name them) may
 * still be in use: its writer's process runs. Another process may be linking its lock attempt or
 * writing beside us right now, so only a dead writer's leftovers may be removed.
 */
export function temporaryInUse(name: string): boolean {
  const m = /^\.tmp-(?:.*-)?(\d+)-[0-9a-f]{12}$/.exec(name);
  return m !== null && pidRuns(Number(m[1]));
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
