// WatchHandle with a fake engine, a fake change source and a manual clock: what it refreshes, reports and survives.
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/errors.js';
import { WatchHandle, closeWatches, type WatchHost } from '../src/watch/watch.js';
import type { ChangeSource } from '../src/watch/types.js';
import type { RefreshJobInfo } from '../src/types.js';
import type { SourceStorage } from '../src/scanner.js';
import { parquetScanner } from '../scanners/index.js';
import { FakeClock, settle } from './helpers/fake-clock.js';

class FakeSource implements ChangeSource {
  readonly mechanism = 'custom' as const;
  readonly reason = 'test events';
  closed = false;
  emit: (paths: string[]) => void = () => {};
  fail: (e: Error) => void = () => {};
  async start(changed: (paths: string[]) => void, failed: (e: Error) => void): Promise<void> {
    this.emit = changed;
    this.fail = failed;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

type Plan = 'ok' | 'fail' | 'busy-call' | 'busy-lock';

function fakeHost(plans: Plan[]) {
  const jobs: string[] = [];
  const waits = new Map<string, (info: RefreshJobInfo) => void>();
  const infoOf = (jobId: string, state: RefreshJobInfo['state'], errorCode: RefreshJobInfo['errorCode'] = '', reason = ''): RefreshJobInfo => ({
    jobId, collectionName: 'c', dbName: 'default', state, progress: state === 'RefreshCompleted' ? 100 : 50, reason, errorCode,
    externalSource: '/x', externalSpec: { format: 'parquet' }, startTime: 1, endTime: 2, filesTotal: 0, filesDone: 0,
    version: jobs.length, committed: state === 'RefreshCompleted', skipped: [], warnings: [],
  });
  const host: WatchHost = {
    owner: {},
    root: '/nowhere/.lakemap',
    describeCollection: async () => ({ collectionName: 'c', dbName: 'default', externalSource: '/x', externalSpec: { format: 'parquet' }, fields: [], createdAt: 0, manifestVersion: 0 }),
    scannerFor: () => parquetScanner,
    openStorage: async () => ({ root: 'mem://x' }) as SourceStorage,
    refreshExternalCollection: async () => {
      const plan = plans.shift() ?? 'ok';
      if (plan === 'busy-call') throw new LakemapError('REFRESH_IN_PROGRESS', 'another engine refreshes c');
      const jobId = String(jobs.length + 1);
      jobs.push(plan);
      return { jobId };
    },
    waitForRefresh: (jobId) =>
      new Promise((resolve) => {
        const plan = jobs[Number(jobId) - 1];
        const info =
          plan === 'ok' ? infoOf(jobId, 'RefreshCompleted')
          : plan === 'busy-lock' ? infoOf(jobId, 'RefreshFailed', 'REFRESH_IN_PROGRESS', 'lock held by pid 1')
          : infoOf(jobId, 'RefreshFailed', 'CORRUPT_FILE', 'a.parquet: bad footer');
        waits.set(jobId, () => resolve(info));
        queueMicrotask(() => waits.get(jobId)?.(info));
      }),
  };
  return { host, jobs };
}

describe('WatchHandle', () => {
  it('refreshes once at start and once per settled burst, reporting events and the last job', async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const src = new FakeSource();
    const { host, jobs } = fakeHost([]);
    const w = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: src, debounceMs: 200, safetyRefreshMs: 0 });
    const ends: string[] = [];
    w.on('refreshend', (e) => ends.push(`${e.jobId}:${e.job?.state}`));
    await w.ready;
    await clock.advance(0);
    expect(jobs).toHaveLength(1);
    expect(w.status()).toMatchObject({ mechanism: 'custom', reason: 'test events', state: 'watching', refreshes: 1, pending: false });
    src.emit(['a.parquet']);
    src.emit(['b.parquet', 'c.parquet']);
    await clock.advance(199);
    expect(jobs).toHaveLength(1);
    await clock.advance(1);
    expect(jobs).toHaveLength(2);
    expect(ends).toEqual(['1:RefreshCompleted', '2:RefreshCompleted']);
    const st = w.status();
    expect(st.lastEvent).toMatchObject({ paths: ['b.parquet', 'c.parquet'], count: 2 });
    expect(st.lastJob).toMatchObject({ jobId: '2', state: 'RefreshCompleted' });
    await w.close();
    expect(src.closed).toBe(true);
    expect(w.status().state).toBe('closed');
    src.emit(['late.parquet']);
    await clock.advance(10_000);
    expect(jobs).toHaveLength(2);
  });

  it('survives failed refreshes (reported, retried with backoff) and treats REFRESH_IN_PROGRESS as "later"', async () => {
    const clock = new FakeClock();
    const src = new FakeSource();
    const { host, jobs } = fakeHost(['busy-call', 'busy-lock', 'fail', 'fail', 'ok']);
    const w = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: src, debounceMs: 100, safetyRefreshMs: 0 });
    await w.ready;
    await clock.advance(0); // busy at the call: no job at all
    expect(jobs).toHaveLength(0);
    expect(w.status()).toMatchObject({ pending: true, consecutiveFailures: 0, errors: [] });
    await clock.advance(1000); // busy inside the job (another process's lock)
    expect(jobs).toHaveLength(1);
    expect(w.status()).toMatchObject({ pending: true, consecutiveFailures: 0, errors: [], deferred: 2 });
    await clock.advance(1000); // a real failure
    expect(jobs).toHaveLength(2);
    const st = w.status();
    expect(st.consecutiveFailures).toBe(1);
    expect(st.errors).toEqual([expect.objectContaining({ code: 'CORRUPT_FILE', jobId: '2', message: 'a.parquet: bad footer' })]);
    expect(st.retryAt).toBe(clock.now() + 1000);
    await clock.advance(1000); // fails again: backoff doubles
    expect(jobs).toHaveLength(3);
    expect(w.status().retryAt).toBe(clock.now() + 2000);
    src.emit(['fixed.parquet']); // a change does not jump the backoff
    await clock.advance(1999);
    expect(jobs).toHaveLength(3);
    await clock.advance(1);
    expect(jobs).toHaveLength(4);
    expect(w.status()).toMatchObject({ consecutiveFailures: 0, pending: false, state: 'watching', lastJob: { state: 'RefreshCompleted' } });
    expect(w.status().errors).toHaveLength(2);
    await w.close();
  });

  it('refreshend comes once status() tells the same story: not refreshing, failures counted, retry scheduled', async () => {
    const clock = new FakeClock();
    const src = new FakeSource();
    const { host, jobs } = fakeHost(['fail', 'ok']);
    const w = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: src, debounceMs: 100, safetyRefreshMs: 0 });
    // What a listener sees of the watch when the event comes (a CLI or a UI reads status() right there).
    const seen: [string | undefined, boolean, number, boolean][] = [];
    w.on('refreshend', (e) => {
      const st = w.status();
      seen.push([e.job?.state, st.refreshing, st.consecutiveFailures, st.retryAt !== undefined]);
    });
    await w.ready;
    await clock.advance(0); // fails
    await clock.advance(1000); // the retry completes
    expect(jobs).toHaveLength(2);
    expect(seen).toEqual([
      ['RefreshFailed', false, 1, true],
      ['RefreshCompleted', false, 0, false],
    ]);
    await w.close();
  });

  it('records change-source errors without stopping, and closeWatches() closes every watch of an engine', async () => {
    const clock = new FakeClock();
    const a = new FakeSource();
    const b = new FakeSource();
    const { host } = fakeHost([]);
    const w1 = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: a, initialRefresh: false, safetyRefreshMs: 0 });
    const w2 = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: b, initialRefresh: false, safetyRefreshMs: 0 });
    await Promise.all([w1.ready, w2.ready]);
    a.fail(new Error('inotify queue overflow'));
    expect(w1.status().errors).toEqual([expect.objectContaining({ code: 'IO_ERROR', message: 'inotify queue overflow' })]);
    expect(w1.status().state).toBe('watching');
    await closeWatches(host.owner);
    expect([a.closed, b.closed, w1.status().state, w2.status().state]).toEqual([true, true, 'closed', 'closed']);
  });

  it('a safety refresh runs with native or custom events even when no event comes', async () => {
    const clock = new FakeClock();
    const { host, jobs } = fakeHost([]);
    const w = new WatchHandle(host, { collectionName: 'c' }, { clock, changeSource: new FakeSource(), initialRefresh: false, safetyRefreshMs: 60_000, debounceMs: 10 });
    await w.ready;
    await clock.advance(59_000);
    expect(jobs).toHaveLength(0);
    await clock.advance(1_010);
    expect(jobs).toHaveLength(1);
    await w.close();
    await settle();
  });

  it('ready rejects with the engine error when the collection does not exist', async () => {
    const { host } = fakeHost([]);
    host.describeCollection = async () => { throw new LakemapError('COLLECTION_NOT_FOUND', 'collection default.c does not exist'); };
    const w = new WatchHandle(host, { collectionName: 'c' }, { changeSource: new FakeSource() });
    await expect(w.ready).rejects.toMatchObject({ code: 'COLLECTION_NOT_FOUND' });
    expect(w.status().state).toBe('closed');
  });
});
