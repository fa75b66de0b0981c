// A refresh job's life on its own (issue 15, mutation testing): the only legal state changes, the event
// each change dispatches, how progress may move, and how the registry keeps running and finished jobs.
// test/engine-jobs.test.ts checks the same through the engine; here each rule is checked alone.
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/errors.js';
import { JobRegistry, RefreshJob, RefreshJobEvent, isFinal } from '../src/engine/jobs.js';
import type { RefreshChangeSet, RefreshJobState } from '../src/types.js';

function job(id = 'j1') {
  const events: RefreshJobEvent[] = [];
  const j = new RefreshJob(id, { collectionName: 'c', dbName: 'db' }, '/src', { format: 'parquet' }, (e) => events.push(e));
  return { j, events };
}

/** Only carried through to the job's record; its full shape does not matter here. */
const changes = { files: { added: 1, removed: 0, modified: 0, unchanged: 0 } } as unknown as RefreshChangeSet;

function illegal(f: () => void, text: string): void {
  let e: unknown;
  try {
    f();
  } catch (err) {
    e = err;
  }
  expect(LakemapError.is(e, 'ILLEGAL_TRANSITION'), String(e)).toBe(true);
  expect((e as Error).message).toBe(text);
}

describe('RefreshJob states', () => {
  it('starts pending with an empty record', () => {
    const { j, events } = job();
    expect(j.state).toBe('RefreshPending');
    expect(j.snapshot()).toEqual({
      jobId: 'j1', collectionName: 'c', dbName: 'db', state: 'RefreshPending', progress: 0, reason: '', errorCode: '',
      externalSource: '/src', externalSpec: { format: 'parquet' }, startTime: 0, endTime: 0, filesTotal: 0, filesDone: 0,
      version: 0, committed: false, skipped: [], warnings: [],
    });
    expect(events).toEqual([]);
  });

  it('pending → in progress → completed, one statechange event each with the state before', async () => {
    const { j, events } = job();
    const before = Date.now();
    j.start();
    expect(j.state).toBe('RefreshInProgress');
    expect(j.snapshot().startTime).toBeGreaterThanOrEqual(before);
    j.setProgress(10, 1, 4);
    j.complete(7, true, changes);
    const info = await j.finished();
    expect(info).toMatchObject({ state: 'RefreshCompleted', progress: 100, version: 7, committed: true, changes, filesDone: 4, filesTotal: 4 });
    expect(info.endTime).toBeGreaterThanOrEqual(info.startTime);
    expect(events.map((e) => [e.type, e.previousState, e.job.state])).toEqual([
      ['statechange', 'RefreshPending', 'RefreshInProgress'],
      ['progress', 'RefreshInProgress', 'RefreshInProgress'],
      ['statechange', 'RefreshInProgress', 'RefreshCompleted'],
    ]);
    expect(events[2]!.job).toEqual(info);
  });

  it('fails from pending or in progress, with the code, reason and path when known', async () => {
    const a = job('a');
    a.j.fail('CANCELLED', 'refresh cancelled');
    const ai = await a.j.finished();
    expect(ai).toMatchObject({ state: 'RefreshFailed', errorCode: 'CANCELLED', reason: 'refresh cancelled' });
    expect(ai).not.toHaveProperty('errorPath');
    expect(ai.endTime).toBeGreaterThan(0);
    expect(a.events.map((e) => e.previousState)).toEqual(['RefreshPending']);

    const b = job('b');
    b.j.start();
    b.j.fail('CORRUPT_FILE', 'bad footer', 'x.parquet');
    expect(await b.j.finished()).toMatchObject({ state: 'RefreshFailed', errorCode: 'CORRUPT_FILE', errorPath: 'x.parquet' });
  });

  it('refuses every other change, naming the job and both states, and changes nothing', () => {
    const { j, events } = job('jid');
    illegal(() => j.complete(1, true, changes), 'job jid: RefreshPending → RefreshCompleted is not allowed');
    j.start();
    illegal(() => j.start(), 'job jid: RefreshInProgress → RefreshInProgress is not allowed');
    j.complete(1, true, changes);
    illegal(() => j.fail('CANCELLED', 'late'), 'job jid: RefreshCompleted → RefreshFailed is not allowed');
    illegal(() => j.start(), 'job jid: RefreshCompleted → RefreshInProgress is not allowed');
    expect(j.snapshot()).toMatchObject({ state: 'RefreshCompleted', reason: '' });
    expect(events).toHaveLength(2);

    const f = job('f');
    f.j.fail('CANCELLED', 'x');
    illegal(() => f.j.start(), 'job f: RefreshFailed → RefreshInProgress is not allowed');
    illegal(() => f.j.complete(1, true, changes), 'job f: RefreshFailed → RefreshCompleted is not allowed');
  });

  it('isFinal: completed and failed only', () => {
    const states: RefreshJobState[] = ['RefreshPending', 'RefreshInProgress', 'RefreshCompleted', 'RefreshFailed'];
    expect(states.map(isFinal)).toEqual([false, false, true, true]);
  });

  it('snapshot is a copy: changing it changes nothing', () => {
    const { j } = job();
    const s = j.snapshot();
    s.skipped.push({ path: 'p', code: 'CORRUPT_FILE', reason: 'r' });
    s.state = 'RefreshFailed';
    expect(j.snapshot().skipped).toEqual([]);
    expect(j.state).toBe('RefreshPending');
  });
});

describe('RefreshJob progress', () => {
  it('rises in whole percent, stays below 100 until completion, never goes back, and sends an event only when it rises', () => {
    const { j, events } = job();
    j.start();
    events.length = 0;
    j.setProgress(12.9);
    expect(j.snapshot().progress).toBe(12);
    j.setProgress(5);
    j.setProgress(12.2);
    expect(j.snapshot().progress).toBe(12);
    j.setProgress(250);
    expect(j.snapshot().progress).toBe(99);
    j.setProgress(-3);
    expect(events.map((e) => [e.type, e.job.progress])).toEqual([['progress', 12], ['progress', 99]]);
  });

  it('a negative progress counts as 0 and sends nothing', () => {
    const { j, events } = job();
    j.setProgress(-10);
    expect(j.snapshot().progress).toBe(0);
    expect(events).toEqual([]);
  });

  it('records file counts even when the percent does not rise', () => {
    const { j, events } = job();
    j.start();
    j.setProgress(50, 2, 10);
    j.setProgress(40, 3);
    expect(j.snapshot()).toMatchObject({ progress: 50, filesDone: 3, filesTotal: 10 });
    j.setProgress(40, undefined, 12);
    expect(j.snapshot()).toMatchObject({ filesDone: 3, filesTotal: 12 });
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(1);
  });

  it('is frozen once the job is final', () => {
    const { j, events } = job();
    j.fail('CANCELLED', 'x');
    const n = events.length;
    j.setProgress(50, 5, 10);
    expect(j.snapshot()).toMatchObject({ progress: 0, filesDone: 0, filesTotal: 0 });
    expect(events).toHaveLength(n);
  });

  it('note() adds skipped files and warnings', () => {
    const { j } = job();
    j.note({ path: 'a', code: 'CORRUPT_FILE', reason: 'r' }, ['w1', 'w2']);
    j.note(undefined, []);
    j.note({ path: 'b', code: 'SCHEMA_MISMATCH', reason: 's' }); // a skipped file alone, as the schema merge notes it
    j.note(undefined, ['w3']);
    expect(j.snapshot()).toMatchObject({ skipped: [{ path: 'a', code: 'CORRUPT_FILE', reason: 'r' }, { path: 'b', code: 'SCHEMA_MISMATCH', reason: 's' }], warnings: ['w1', 'w2', 'w3'] });
  });
});

describe('JobRegistry', () => {
  it('ids are unique and sort by creation time', async () => {
    const reg = new JobRegistry(10);
    const a = reg.nextId();
    await new Promise((r) => setTimeout(r, 3));
    const b = reg.nextId();
    expect(a).toMatch(/^[0-9a-z]{9}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 50 }, () => reg.nextId())).size).toBe(50);
  });

  it('finds a job by id while it runs and after it ends', async () => {
    const reg = new JobRegistry(10);
    const { j } = job('x');
    reg.add(j);
    expect(reg.get('x')).toBe(j);
    expect(reg.get('y')).toBeUndefined();
    j.fail('CANCELLED', 'x');
    await j.finished();
    await Promise.resolve();
    expect(reg.get('x')).toBe(j);
  });

  it('keeps the newest finished jobs up to its bound, and every running one', async () => {
    const reg = new JobRegistry(2);
    const running = job('run').j;
    reg.add(running);
    const ids = ['f1', 'f2', 'f3', 'f4'];
    for (const id of ids) {
      const j = job(id).j;
      reg.add(j);
      j.fail('CANCELLED', 'x');
      await j.finished();
      await Promise.resolve();
    }
    expect(reg.all().map((j) => j.jobId)).toEqual(['run', 'f3', 'f4']);
    expect(reg.get('f1')).toBeUndefined();
  });

  it('with a bound of zero keeps no finished job', async () => {
    const reg = new JobRegistry(0);
    const j = job('only').j;
    reg.add(j);
    j.fail('CANCELLED', 'x');
    await j.finished();
    await Promise.resolve();
    expect(reg.all()).toEqual([]);
  });
});
