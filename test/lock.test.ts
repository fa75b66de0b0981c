// The collection lock's rules, one at a time (issue 15, mutation testing): who counts as a live holder,
// when a lock is taken over and when refused, and that release and stillHeld only ever act on our own
// lock. The engine tests cover the lock through refreshes; these pin each rule the engine relies on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import fsObject from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LakemapError } from '../src/errors.js';
import {
  acquireLock,
  describeHolder,
  holderAlive,
  linkExclusive,
  makeHolder,
  processStartTime,
  readLock,
  temporaryInUse,
  type LockRecord,
} from '../src/manifest/lock.js';
import { tempDir } from './helpers/tmp.js';

/** A pid that ran and has ended. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

let live: ChildProcess;
beforeAll(() => {
  live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
});
afterAll(() => {
  live.kill();
});
afterEach(() => {
  vi.restoreAllMocks();
});

function lockFile(): string {
  return path.join(tempDir(), 'refresh.lock');
}

/** A lock file as another holder wrote it. */
function writeLock(file: string, r: Partial<LockRecord>): void {
  fs.writeFileSync(file, JSON.stringify({ token: 'theirs', jobId: 'j-theirs', purpose: 'refresh', acquiredAt: 1, hostname: os.hostname(), ...r }));
}

/**
 * Runs `fn` while the first read of `file` is followed by `after()` (another process rewriting the lock
 * between our look at it and our takeover); the lock module's own `node:fs` bindings see the hook.
 */
function afterFirstRead<T>(file: string, after: () => void, fn: () => T): T {
  const target = fsObject as unknown as { readFileSync: (...a: unknown[]) => unknown };
  const orig = target.readFileSync;
  let first = true;
  target.readFileSync = (...args: unknown[]) => {
    const out = orig(...args);
    if (first && args[0] === file) {
      first = false;
      after();
    }
    return out;
  };
  syncBuiltinESMExports();
  try {
    return fn();
  } finally {
    target.readFileSync = orig;
    syncBuiltinESMExports();
  }
}

function refused(f: () => unknown): LakemapError {
  try {
    f();
  } catch (e) {
    expect(LakemapError.is(e, 'REFRESH_IN_PROGRESS'), String(e)).toBe(true);
    return e as LakemapError;
  }
  throw new Error('expected REFRESH_IN_PROGRESS');
}

describe('acquireLock', () => {
  it('writes a complete record naming the holder and leaves no temporary file', () => {
    const file = lockFile();
    const h = makeHolder();
    const lock = acquireLock(file, h, 'job-1', 'refresh', 'collection d.c');
    expect(readLock(file)).toEqual({ ...h, jobId: 'job-1', purpose: 'refresh', acquiredAt: lock.record.acquiredAt });
    expect(lock.stillHeld()).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['refresh.lock']);
    lock.release();
  });

  it('refuses another engine of this process while the lock is held, naming the holder', () => {
    const file = lockFile();
    const a = acquireLock(file, makeHolder(), 'job-a', 'refresh', 'collection d.c');
    const e = refused(() => acquireLock(file, makeHolder(), 'job-b', 'refresh', 'collection d.c'));
    expect(e.message).toMatch(/^collection d\.c is locked by job job-a of process \d+ on .+, in this process \(engine [0-9a-f]{8}, since \d{4}-/);
    expect(e.path).toBe(file);
    expect(readLock(file)!.jobId).toBe('job-a');
    a.release();
    const b = acquireLock(file, makeHolder(), 'job-b', 'refresh', 'collection d.c');
    expect(readLock(file)!.jobId).toBe('job-b');
    b.release();
  });

  it('refuses the same engine taking a lock it already holds', () => {
    const file = lockFile();
    const h = makeHolder();
    const a = acquireLock(file, h, 'job-a', 'refresh', 'c');
    refused(() => acquireLock(file, h, 'job-b', 'refresh', 'c'));
    a.release();
  });

  it('keeps two locks one engine takes in the same millisecond apart: releasing one leaves the other held', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const h = makeHolder();
    const one = acquireLock(lockFile(), h, 'j1', 'refresh', 'one');
    const twoFile = lockFile();
    const two = acquireLock(twoFile, h, 'j2', 'refresh', 'two');
    expect(two.record.acquiredAt).not.toBe(one.record.acquiredAt);
    one.release();
    refused(() => acquireLock(twoFile, makeHolder(), 'j3', 'refresh', 'two'));
    expect(two.stillHeld()).toBe(true);
    two.release();
  });

  it('takes over the lock of a process that ended', () => {
    const file = lockFile();
    writeLock(file, { pid: deadPid(), startTime: '1' });
    const lock = acquireLock(file, makeHolder(), 'mine', 'refresh', 'c');
    expect(readLock(file)!.jobId).toBe('mine');
    expect(fs.existsSync(`${file}.takeover`)).toBe(false);
    lock.release();
  });

  it('takes over the lock of an engine of this process that no longer holds it', () => {
    const file = lockFile();
    writeLock(file, { ...makeHolder('gone'), token: 'gone' });
    const lock = acquireLock(file, makeHolder(), 'mine', 'refresh', 'c');
    expect(readLock(file)!.jobId).toBe('mine');
    lock.release();
  });

  it('refuses a live process of this host and takes over when its pid was reused (other start time)', () => {
    const file = lockFile();
    const start = processStartTime(live.pid!);
    expect(start).toMatch(/^\d+$/);
    writeLock(file, { pid: live.pid!, startTime: start });
    const e = refused(() => acquireLock(file, makeHolder(), 'mine', 'refresh', 'c'));
    expect(e.message).toContain(`job j-theirs of process ${live.pid} on ${os.hostname()} (engine theirs, since 1970-01-01T00:00:00.001Z)`);
    expect(e.message).not.toContain('in this process');

    writeLock(file, { pid: live.pid!, startTime: String(Number(start) + 1) });
    const lock = acquireLock(file, makeHolder(), 'mine', 'refresh', 'c');
    expect(readLock(file)!.jobId).toBe('mine');
    lock.release();
  });

  it('refuses a holder on another host (its pid cannot be checked from here)', () => {
    const file = lockFile();
    writeLock(file, { pid: deadPid(), startTime: '1', hostname: `not-${os.hostname()}` });
    refused(() => acquireLock(file, makeHolder(), 'mine', 'refresh', 'c'));
  });

  it('takes over a lock file that cannot be read (a writer killed before linking cannot leave one, but an operator can)', () => {
    const file = lockFile();
    fs.writeFileSync(file, '{"pid": 12');
    const lock = acquireLock(file, makeHolder(), 'mine', 'refresh', 'c');
    expect(readLock(file)!.jobId).toBe('mine');
    lock.release();
  });

  it('does not take over while another process holds the takeover guard, and gives up with a clear error', () => {
    const file = lockFile();
    writeLock(file, { pid: deadPid(), startTime: '1' });
    fs.writeFileSync(`${file}.takeover`, '1');
    const e = refused(() => acquireLock(file, makeHolder(), 'mine', 'refresh', 'collection d.c'));
    expect(e.message).toBe(`collection d.c: could not take the lock ${file}`);
    expect(e.path).toBe(file);
    expect(readLock(file)!.jobId).toBe('j-theirs');
    expect(fs.existsSync(`${file}.takeover`), "the guard is another process's").toBe(true);
  });

  it('removes a takeover guard left by a killed process after it expires, then takes over', () => {
    const file = lockFile();
    writeLock(file, { pid: deadPid(), startTime: '1' });
    const guard = `${file}.takeover`;
    fs.writeFileSync(guard, '1');
    const old = new Date(Date.now() - 11_000);
    fs.utimesSync(guard, old, old);
    const lock = acquireLock(file, makeHolder(), 'mine', 'refresh', 'c');
    expect(readLock(file)!.jobId).toBe('mine');
    expect(fs.existsSync(guard)).toBe(false);
    lock.release();
  });

  it('does not break a lock that a live holder took between our look and our takeover', () => {
    const liveRecord = () => ({ pid: live.pid!, startTime: processStartTime(live.pid!) });
    // a stale record replaced by another holder
    const a = lockFile();
    writeLock(a, { pid: deadPid(), startTime: '1' });
    const e = afterFirstRead(a, () => writeLock(a, { ...liveRecord(), token: 'next', jobId: 'j-next' }), () => refused(() => acquireLock(a, makeHolder(), 'mine', 'refresh', 'c')));
    expect(e.message).toContain('job j-next');
    expect(readLock(a)!.jobId).toBe('j-next');
    // the same holder token, taken again at another time
    const b = lockFile();
    writeLock(b, { pid: deadPid(), startTime: '1' });
    afterFirstRead(b, () => writeLock(b, { ...liveRecord(), acquiredAt: 2, jobId: 'j-again' }), () => refused(() => acquireLock(b, makeHolder(), 'mine', 'refresh', 'c')));
    expect(readLock(b)!.jobId).toBe('j-again');
    // an unreadable lock file that a live holder replaced
    const c = lockFile();
    fs.writeFileSync(c, '{"pid": 12');
    afterFirstRead(c, () => writeLock(c, { ...liveRecord(), jobId: 'j-fresh' }), () => refused(() => acquireLock(c, makeHolder(), 'mine', 'refresh', 'c')));
    expect(readLock(c)!.jobId).toBe('j-fresh');
    expect(fs.existsSync(`${c}.takeover`)).toBe(false);
  });

  it('keeps a guard younger than ten seconds', () => {
    const file = lockFile();
    writeLock(file, { pid: deadPid(), startTime: '1' });
    const guard = `${file}.takeover`;
    fs.writeFileSync(guard, '1');
    const recent = new Date(Date.now() - 8_000);
    fs.utimesSync(guard, recent, recent);
    refused(() => acquireLock(file, makeHolder(), 'mine', 'refresh', 'c'));
    expect(fs.existsSync(guard)).toBe(true);
  });
});

describe('CollectionLock', () => {
  it('release removes the file once; a second release is harmless and the lock can be taken again', () => {
    const file = lockFile();
    const lock = acquireLock(file, makeHolder(), 'j', 'refresh', 'c');
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
    expect(lock.stillHeld()).toBe(false);
    const next = acquireLock(file, makeHolder(), 'k', 'refresh', 'c');
    lock.release(); // the old lock's second release leaves the new holder's file alone
    expect(readLock(file)!.jobId).toBe('k');
    next.release();
  });

  it('a second release of an old lock leaves the same engine\'s next lock, taken in the same millisecond, alone', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const file = lockFile();
    const h = makeHolder();
    const old = acquireLock(file, h, 'j1', 'refresh', 'c');
    old.release();
    const next = acquireLock(file, h, 'j2', 'refresh', 'c');
    old.release();
    expect(readLock(file)!.jobId).toBe('j2');
    expect(next.stillHeld()).toBe(true);
    refused(() => acquireLock(file, makeHolder(), 'j3', 'refresh', 'c'));
    next.release();
  });

  it('leaves alone a lock file that is no longer ours, and says so in stillHeld', () => {
    const file = lockFile();
    const h = makeHolder();
    const lock = acquireLock(file, h, 'j', 'refresh', 'c');
    // someone broke our lock and another holder took it: same token (another take of this engine), other time
    writeLock(file, { ...h, jobId: 'other', acquiredAt: lock.record.acquiredAt + 5 });
    expect(lock.stillHeld()).toBe(false);
    lock.release();
    expect(readLock(file)!.jobId).toBe('other');
    // same time, another engine
    writeLock(file, { ...makeHolder(), jobId: 'other2', acquiredAt: lock.record.acquiredAt });
    const again = acquireLock(lockFile(), h, 'j2', 'refresh', 'c');
    again.release();
    expect(readLock(file)!.jobId).toBe('other2');
  });

  it('stillHeld is false once the file is gone or another engine wrote it at the same time', () => {
    const file = lockFile();
    const lock = acquireLock(file, makeHolder(), 'j', 'refresh', 'c');
    writeLock(file, { ...makeHolder(), acquiredAt: lock.record.acquiredAt });
    expect(lock.stillHeld()).toBe(false);
    fs.rmSync(file);
    expect(lock.stillHeld()).toBe(false);
    lock.release();
  });

  it('release keeps a lock file written by another engine with the same time', () => {
    const file = lockFile();
    const lock = acquireLock(file, makeHolder(), 'j', 'refresh', 'c');
    writeLock(file, { ...makeHolder(), jobId: 'other', acquiredAt: lock.record.acquiredAt });
    lock.release();
    expect(readLock(file)!.jobId).toBe('other');
  });
});

describe('holderAlive', () => {
  it('counts a holder without a valid pid as dead', () => {
    for (const pid of [0, -1, 1.5, Number.NaN, '12' as unknown as number, undefined]) {
      expect(holderAlive({ pid, hostname: os.hostname() }), String(pid)).toBe(false);
    }
  });

  it('counts a pid written as a string as dead, even when that process runs', () => {
    expect(holderAlive({ pid: String(live.pid) as unknown as number, hostname: os.hostname() })).toBe(false);
  });

  it('counts another host as alive, whatever its pid', () => {
    expect(holderAlive({ pid: deadPid(), hostname: `not-${os.hostname()}` })).toBe(true);
  });

  it('in this process: alive without a token to check, else only while the token is held', () => {
    const h = makeHolder();
    expect(holderAlive(h)).toBe(true);
    expect(holderAlive(h, 'never-held')).toBe(false);
    expect(holderAlive({ pid: process.pid })).toBe(true); // no start time recorded
    const lock = acquireLock(lockFile(), h, 'j', 'refresh', 'c');
    expect(holderAlive(h, `${h.token}@${lock.record.acquiredAt}`)).toBe(true);
    lock.release();
    expect(holderAlive(h, `${h.token}@${lock.record.acquiredAt}`)).toBe(false);
  });

  it('another process of this host: alive while its pid runs with the recorded start time', () => {
    const start = processStartTime(live.pid!);
    expect(holderAlive({ pid: live.pid!, startTime: start, hostname: os.hostname() })).toBe(true);
    expect(holderAlive({ pid: live.pid!, startTime: '', hostname: os.hostname() }), 'no start time recorded').toBe(true);
    expect(holderAlive({ pid: live.pid!, startTime: `${start}0`, hostname: os.hostname() })).toBe(false);
    expect(holderAlive({ pid: deadPid(), startTime: start, hostname: os.hostname() })).toBe(false);
    expect(holderAlive({ pid: deadPid() })).toBe(false);
  });

  it('this pid with another start time is a reused pid of an ended process', () => {
    const h = makeHolder();
    expect(holderAlive({ ...h, startTime: `${h.startTime}0` })).toBe(false);
  });
});

describe('describeHolder', () => {
  it('names the job, or the purpose, and marks this process', () => {
    expect(describeHolder({ jobId: '', purpose: 'drop', pid: 42, hostname: 'h', token: 'abcdef0123456789', acquiredAt: 0 })).toBe(
      'drop of process 42 on h (engine abcdef01, since ?)',
    );
    expect(describeHolder({})).toBe('an operation of process ? on ? (engine ?, since ?)');
    expect(describeHolder({ pid: process.pid, hostname: 'elsewhere' })).not.toContain('in this process');
    expect(describeHolder({ pid: process.pid, hostname: os.hostname(), jobId: 'j' })).toMatch(/^job j of process \d+ on .+, in this process \(/);
  });
});

describe('linkExclusive and temporaries', () => {
  it('creates the file only if it does not exist, complete, without leftovers', () => {
    const dir = tempDir();
    const file = path.join(dir, 'f');
    expect(linkExclusive(file, 'one')).toBe(true);
    expect(linkExclusive(file, 'two')).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('one');
    expect(fs.readdirSync(dir)).toEqual(['f']);
  });

  it('fails loudly on errors other than an existing file', () => {
    expect(() => linkExclusive(path.join(tempDir(), 'missing', 'f'), 'x')).toThrow(/ENOENT/);
  });

  it('readLock: undefined for a missing file, bad JSON or JSON that is not a record', () => {
    const file = lockFile();
    expect(readLock(file)).toBeUndefined();
    for (const text of ['42', 'null', '"x"', 'true', '{"pid"']) {
      fs.writeFileSync(file, text);
      expect(readLock(file), text).toBeUndefined();
    }
  });

  it('temporaryInUse: only names of the temporary pattern whose writer runs', () => {
    expect(temporaryInUse(`.tmp-refresh.lock-${process.pid}-0123456789ab`)).toBe(true);
    expect(temporaryInUse(`.tmp-${live.pid}-0123456789ab`)).toBe(true);
    expect(temporaryInUse(`.tmp-v000001.json-${deadPid()}-0123456789ab`)).toBe(false);
    expect(temporaryInUse(`.tmp-refresh.lock-${process.pid}-0123456789ab.bak`)).toBe(false);
    expect(temporaryInUse(`x.tmp-refresh.lock-${process.pid}-0123456789ab`)).toBe(false);
    expect(temporaryInUse(`.tmp-refresh.lock-${process.pid}-0123456789AB`)).toBe(false);
    expect(temporaryInUse('refresh.lock')).toBe(false);
  });

  it('processStartTime: the start time of a running process, empty for none', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(live.pid!)).not.toBe('');
    expect(processStartTime(deadPid())).toBe('');
  });

  it('processStartTime: a process whose name holds ") " and spaces still reads its own start time', async () => {
    const odd = spawn(process.execPath, ['-e', "process.title = 'x) (y z'; console.log('ok'); setTimeout(() => {}, 60000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => odd.stdout!.once('data', resolve));
      expect(fs.readFileSync(`/proc/${odd.pid}/stat`, 'utf8')).toContain('(x) (y z)');
      // started after `live`: its start time (clock ticks since boot) is not smaller; a field read at the
      // wrong offset (the thread count) would be
      expect(Number(processStartTime(odd.pid!))).toBeGreaterThanOrEqual(Number(processStartTime(live.pid!)));
    } finally {
      odd.kill();
    }
  });
});
