// One refresh per collection across engines of one process: the lock names its holder, is taken at
// the call, and respected by drop; a commit never lands in a dropped or re-created collection; jobs
// are visible from every engine on the root.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, type FileScanner } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { gatedScanner } from './helpers/gate.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { rejection } from './helpers/rejection.js';

function lake(files: number): string {
  const dir = tempDir();
  for (let i = 0; i < files; i++) writeJsonl(path.join(dir, `part-${i}.jsonl`), 10, i * 10);
  return dir;
}

async function twoEngines(scanner: FileScanner) {
  const root = tempDir();
  const source = lake(3);
  const a = new RefreshEngine({ root, scanners: [scanner], workers: 0 });
  const b = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
  await a.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  return { root, source, a, b };
}

const refused = rejection;

describe('two engines in one process', () => {
  it('refuses a second refresh at the call, naming the holder, and both never commit the same version', async () => {
    const g = gatedScanner();
    const { root, source, a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    const e = await refused(b.refreshExternalCollection({ collectionName: 'c' }));
    expect(e.code).toBe('REFRESH_IN_PROGRESS');
    expect(e.message).toContain(jobId);
    expect(e.message).toContain(`process ${process.pid}`);
    g.open();
    expect((await a.waitForRefresh(jobId)).version).toBe(1);
    writeJsonl(path.join(source, 'part-9.jsonl'), 5);
    const second = await b.waitForRefresh((await b.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(second).toMatchObject({ state: 'RefreshCompleted', version: 2, committed: true });
    const v1 = JSON.parse(fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000001.json'), 'utf8'));
    expect(v1.jobId).toBe(jobId);
    expect((await a.getManifest({ collectionName: 'c' })).totalRows).toBe(35);
  });

  it('lets exactly one of two simultaneous calls start', async () => {
    const { a, b } = await twoEngines(jsonlScanner);
    const calls = await Promise.allSettled([a, b, a, b].map((e) => e.refreshExternalCollection({ collectionName: 'c' })));
    const started = calls.filter((c) => c.status === 'fulfilled');
    expect(started).toHaveLength(1);
    for (const c of calls) if (c.status === 'rejected') expect((c.reason as LakemapError).code).toBe('REFRESH_IN_PROGRESS');
    const info = await a.waitForRefresh((started[0] as PromiseFulfilledResult<{ jobId: string }>).value.jobId);
    expect(info.version).toBe(1);
  });

  it('releases the lock when the job fails or is cancelled', async () => {
    const g = gatedScanner();
    const { a, b, source } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    a.cancelRefresh(jobId);
    g.open();
    expect((await a.waitForRefresh(jobId)).errorCode).toBe('CANCELLED');
    fs.writeFileSync(path.join(source, 'bad.jsonl'), 'not json\n');
    expect((await b.waitForRefresh((await b.refreshExternalCollection({ collectionName: 'c' })).jobId)).errorCode).toBe('CORRUPT_FILE');
    fs.rmSync(path.join(source, 'bad.jsonl'));
    expect((await a.waitForRefresh((await a.refreshExternalCollection({ collectionName: 'c' })).jobId)).state).toBe('RefreshCompleted');
  });
});

describe('compare-and-swap commit', () => {
  it('a job whose lock was broken while it ran does not commit over the version another engine made current', async () => {
    const g = gatedScanner();
    const { root, a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    await g.probing;
    fs.rmSync(path.join(root, 'default', 'c', 'refresh.lock')); // an operator deletes the lock by hand
    const other = await b.waitForRefresh((await b.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(other).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    const v1 = fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000001.json'), 'utf8');
    g.open();
    const info = await a.waitForRefresh(jobId);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'COMMIT_CONFLICT' });
    expect(fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000001.json'), 'utf8')).toBe(v1);
    expect((await a.getManifest({ collectionName: 'c' })).jobId).toBe(other.jobId);
  });
});

describe('drop during a refresh', () => {
  it('is refused while another engine refreshes, naming the job; the refresh then commits', async () => {
    const g = gatedScanner();
    const { a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    const e = await refused(b.dropCollection({ collectionName: 'c' }));
    expect(e.code).toBe('REFRESH_IN_PROGRESS');
    expect(e.message).toContain(jobId);
    g.open();
    expect((await a.waitForRefresh(jobId)).state).toBe('RefreshCompleted');
    await b.dropCollection({ collectionName: 'c' });
    expect(await a.listCollections()).toEqual([]);
  });

  it('a commit never lands in a collection dropped and created again under the same name', async () => {
    const g = gatedScanner();
    const { root, a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    await g.probing;
    // Another tool removes the folder behind the lock's back, and the name is created again.
    fs.rmSync(path.join(root, 'default', 'c'), { recursive: true });
    await b.createCollection({ collectionName: 'c', externalSource: lake(1), externalSpec: { format: 'jsonl' } });
    g.open();
    const info = await a.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('COMMIT_CONFLICT');
    expect(info.reason).toContain('dropped');
    expect(await refused(b.getManifest({ collectionName: 'c' }))).toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    expect(fs.existsSync(path.join(root, 'default', 'c', 'manifests'))).toBe(false);
  });

  it('a commit never re-creates a dropped collection', async () => {
    const g = gatedScanner();
    const { root, a } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    await g.probing;
    fs.rmSync(path.join(root, 'default', 'c'), { recursive: true });
    g.open();
    expect(await a.waitForRefresh(jobId)).toMatchObject({ state: 'RefreshFailed', errorCode: 'COMMIT_CONFLICT' });
    expect(fs.existsSync(path.join(root, 'default', 'c'))).toBe(false);
  });
});

describe('jobs from any engine on the root', () => {
  it('another engine sees progress, lists and waits for a job it did not start', async () => {
    const g = gatedScanner();
    const { a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    await g.probing;
    expect(b.getRefreshExternalCollectionProgress(jobId)).toMatchObject({ jobId, state: 'RefreshInProgress', collectionName: 'c' });
    expect(b.listRefreshExternalCollectionJobs({ collectionName: 'c' }).map((j) => j.jobId)).toEqual([jobId]);
    const waited = b.waitForRefresh(jobId);
    g.open();
    const done = await waited;
    expect(done).toMatchObject({ state: 'RefreshCompleted', version: 1, progress: 100 });
    expect(done.changes?.files.added).toBe(3);
    expect(new RefreshEngine({ root: a.root, workers: 0 }).getRefreshExternalCollectionProgress(jobId).state).toBe('RefreshCompleted');
    expect(() => b.getRefreshExternalCollectionProgress('nope')).toThrow(/JOB_NOT_FOUND|no refresh job/);
  });

  it('another engine cancels a job it did not start', async () => {
    const g = gatedScanner();
    const { a, b } = await twoEngines(g.scanner);
    const { jobId } = await a.refreshExternalCollection({ collectionName: 'c' });
    await g.probing;
    expect(b.cancelRefresh(jobId)).toBe(true);
    await g.aborted; // the running engine found the request (it looks every 200 ms): a fixed sleep raced this under load
    g.open();
    const info = await b.waitForRefresh(jobId);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'CANCELLED' });
    expect(b.cancelRefresh(jobId)).toBe(false);
    expect((await a.waitForRefresh((await a.refreshExternalCollection({ collectionName: 'c' })).jobId)).state).toBe('RefreshCompleted');
  });

  it('keepJobs prunes stored records, oldest first', async () => {
    const root = tempDir();
    const e = new RefreshEngine({ root, scanners: [jsonlScanner], keepJobs: 2, workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake(1), externalSpec: { format: 'jsonl' } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { jobId } = await e.refreshExternalCollection({ collectionName: 'c' });
      await e.waitForRefresh(jobId);
      ids.push(jobId);
      await new Promise((r) => setTimeout(r, 5));
    }
    const other = new RefreshEngine({ root, workers: 0 });
    expect(other.listRefreshExternalCollectionJobs().map((j) => j.jobId)).toEqual(ids.slice(2));
    expect(fs.readdirSync(path.join(root, '.jobs')).filter((n) => n.endsWith('.json'))).toHaveLength(2);
  });
});
