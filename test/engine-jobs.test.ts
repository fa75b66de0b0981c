// Refresh jobs: the state machine, progress, cancellation, one refresh per collection.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, type FileScanner, type RefreshJobEvent, type RefreshJobState } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeFile, writeJsonl } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

/** A jsonl scanner whose probes wait for `gate` to open, so a test can look at a running job. */
function gatedScanner(): { scanner: FileScanner; open: () => void; probes: () => number } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let probes = 0;
  const scanner: FileScanner = {
    ...jsonlScanner,
    async probe(file, ctx) {
      probes++;
      await gate;
      return jsonlScanner.probe(file, ctx);
    },
  };
  return { scanner, open, probes: () => probes };
}

function lake(files: number, rows = 10): string {
  const dir = tempDir();
  for (let i = 0; i < files; i++) writeJsonl(path.join(dir, `part-${String(i).padStart(3, '0')}.jsonl`), rows, i * rows);
  return dir;
}

async function setup(scanner: FileScanner = jsonlScanner, files = 3) {
  const source = lake(files);
  const engine = new RefreshEngine({ root: tempDir(), scanners: [scanner] });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  return { engine, source };
}

describe('job state machine', () => {
  it('goes pending → in progress → completed, returning the job id before any file is read', async () => {
    const g = gatedScanner();
    const { engine } = await setup(g.scanner);
    const states: [RefreshJobState, RefreshJobState][] = [];
    engine.on('statechange', (e: RefreshJobEvent) => states.push([e.previousState, e.job.state]));
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const first = engine.getRefreshExternalCollectionProgress(jobId);
    expect(first.state).toBe('RefreshPending');
    expect(first.progress).toBe(0);
    expect(first.startTime).toBe(0);
    expect(g.probes()).toBe(0);
    // The job starts on its own a moment later (longer on a loaded machine): wait for it, never a fixed sleep.
    const running = await waitFor('the job to run', () => {
      const info = engine.getRefreshExternalCollectionProgress(jobId);
      return info.state !== 'RefreshPending' && info;
    });
    expect(running.state).toBe('RefreshInProgress');
    expect(running.startTime).toBeGreaterThan(0);
    expect(running.endTime).toBe(0);
    expect(running.progress).toBeLessThan(100);
    g.open();
    const done = await engine.waitForRefresh(jobId);
    expect(done.state).toBe('RefreshCompleted');
    expect(done.progress).toBe(100);
    expect(done.reason).toBe('');
    expect(done.version).toBe(1);
    expect(done.endTime).toBeGreaterThanOrEqual(done.startTime);
    expect(states).toEqual([
      ['RefreshPending', 'RefreshInProgress'],
      ['RefreshInProgress', 'RefreshCompleted'],
    ]);
  });

  it('goes in progress → failed with a reason naming the file', async () => {
    const { engine, source } = await setup();
    const { writeFile } = await import('./helpers/tmp.js');
    writeFile(path.join(source, 'part-001.jsonl'), 'not json\n');
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const info = await engine.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('CORRUPT_FILE');
    expect(info.reason).toContain('part-001.jsonl');
    expect(info.progress).toBeLessThan(100);
    expect(info.endTime).toBeGreaterThan(0);
  });

  it('goes pending → failed when cancelled before it starts', async () => {
    const { engine } = await setup();
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    expect(engine.cancelRefresh(jobId)).toBe(true);
    const info = await engine.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('CANCELLED');
    expect(info.startTime).toBe(0);
    expect(engine.cancelRefresh(jobId)).toBe(false);
  });

  it('reports unknown job ids with JOB_NOT_FOUND', async () => {
    const { engine } = await setup();
    expect(() => engine.getRefreshExternalCollectionProgress('nope')).toThrowError(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });
});

describe('progress', () => {
  it('never goes back and reaches 100 only on completion', async () => {
    const { engine } = await setup(jsonlScanner, 300);
    const seen: number[] = [];
    engine.on('progress', (e) => seen.push(e.job.progress));
    engine.on('statechange', (e) => seen.push(e.job.progress));
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const info = await engine.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshCompleted');
    expect(seen.length).toBeGreaterThan(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.filter((p) => p === 100)).toHaveLength(1);
    expect(seen.at(-1)).toBe(100);
    expect(info.filesTotal).toBe(300);
    expect(info.filesDone).toBe(300);
  });
});

describe('cancellation', () => {
  it('cancelRefresh stops a running job and keeps the previous manifest', async () => {
    const { engine } = await setup();
    const first = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(first.state).toBe('RefreshCompleted');
    const g = gatedScanner();
    engine.registerScanner(g.scanner);
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c', externalSpec: { format: 'jsonl', lines_per_unit: 2 } });
    await waitFor('a probe waiting at the gate', () => g.probes() > 0);
    expect(engine.getRefreshExternalCollectionProgress(jobId).state).toBe('RefreshInProgress');
    engine.cancelRefresh(jobId);
    g.open();
    const info = await engine.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('CANCELLED');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.version).toBe(1);
    expect(m.externalSpec).toEqual({ format: 'jsonl' });
  });

  it('an AbortSignal passed to refreshExternalCollection cancels it', async () => {
    const g = gatedScanner();
    const { engine } = await setup(g.scanner);
    const ac = new AbortController();
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c', signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    g.open();
    const info = await engine.waitForRefresh(jobId);
    expect(info.errorCode).toBe('CANCELLED');
    await expect(engine.getManifest({ collectionName: 'c' })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });

  it('waitForRefresh can stop waiting without cancelling the job', async () => {
    const g = gatedScanner();
    const { engine } = await setup(g.scanner);
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const ac = new AbortController();
    const waiting = engine.waitForRefresh(jobId, { signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    g.open();
    expect((await engine.waitForRefresh(jobId)).state).toBe('RefreshCompleted');
  });
});

describe('one refresh per collection', () => {
  it('refuses a second refresh while one is pending or running, naming the running job', async () => {
    const g = gatedScanner();
    const { engine } = await setup(g.scanner);
    await engine.createCollection({ collectionName: 'other', externalSource: lake(1), externalSpec: { format: 'jsonl' } });
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const err = await engine.refreshExternalCollection({ collectionName: 'c' }).catch((e: unknown) => e);
    expect(LakemapError.is(err, 'REFRESH_IN_PROGRESS')).toBe(true);
    expect((err as Error).message).toContain(jobId);
    // another collection is not blocked
    const other = await engine.refreshExternalCollection({ collectionName: 'other' });
    g.open();
    await engine.waitForRefresh(jobId);
    expect((await engine.waitForRefresh(other.jobId)).state).toBe('RefreshCompleted');
    // and once finished, the collection can be refreshed again
    const again = await engine.refreshExternalCollection({ collectionName: 'c' });
    expect((await engine.waitForRefresh(again.jobId)).state).toBe('RefreshCompleted');
    const jobs = engine.listRefreshExternalCollectionJobs({ collectionName: 'c' });
    expect(jobs.map((j) => j.jobId)).toEqual([jobId, again.jobId]);
  });

  it('keeps a bounded number of finished jobs', async () => {
    const source = lake(1);
    const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], keepJobs: 2 });
    await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
      ids.push(jobId);
      await engine.waitForRefresh(jobId);
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(engine.listRefreshExternalCollectionJobs().map((j) => j.jobId)).toEqual(ids.slice(2));
  });
});

describe('the failing file of a failed job', () => {
  it('is errorPath on the job, kept in its record for other engines, and absent when the job completes', async () => {
    const source = lake(2);
    writeFile(path.join(source, 'sub', 'broken.jsonl'), 'not json\n');
    const root = tempDir();
    const engine = new RefreshEngine({ root, scanners: [jsonlScanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const failed = await engine.waitForRefresh(jobId);
    expect(failed.state).toBe('RefreshFailed');
    expect(failed.reason).toContain('broken.jsonl');
    expect(failed.errorPath).toBe('sub/broken.jsonl');
    const other = new RefreshEngine({ root, scanners: [jsonlScanner] });
    expect(other.getRefreshExternalCollectionProgress(jobId).errorPath).toBe('sub/broken.jsonl');
    await Promise.all([engine.close(), other.close()]);

    fs.rmSync(path.join(source, 'sub'), { recursive: true });
    const again = new RefreshEngine({ root, scanners: [jsonlScanner] });
    const ok = await again.waitForRefresh((await again.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(ok.state, ok.reason).toBe('RefreshCompleted');
    expect(ok).not.toHaveProperty('errorPath');
    await again.close();
  });
});
