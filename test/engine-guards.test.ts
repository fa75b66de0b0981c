// Behaviours docs/concepts.md promises that once survived deliberate breakage (issue 15): cancellation
// in the middle of a scan, the refresh's source override, FIELD_TYPE_UNSUPPORTED, keepVersions pruning,
// keepJobs, and the order of job events.
import * as path from 'node:path';
import { Field, Int32, Null, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { RefreshEngine, type FileScanner, type RefreshJobEvent } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

function lake(files: number, rows = 2): string {
  const dir = tempDir();
  for (let i = 0; i < files; i++) writeJsonl(path.join(dir, `part-${String(i).padStart(5, '0')}.jsonl`), rows, i * rows);
  return dir;
}

describe('cancellation mid-scan', () => {
  it('stops probing soon after the first probe of 2,000 files when cancelled', async () => {
    let probes = 0;
    let engine!: RefreshEngine;
    let jobId = '';
    const scanner: FileScanner = {
      kind: 'file',
      format: 'counted',
      extensions: ['.jsonl'],
      probe(file) {
        probes++;
        if (probes === 1) engine.cancelRefresh(jobId);
        return { rows: 1, units: [{ rows: 1, byteSize: file.size }], schema: new Schema([new Field('a', new Int32(), true)]) };
      },
    };
    engine = new RefreshEngine({ root: tempDir(), scanners: [scanner], workers: 0, concurrency: 16 });
    await engine.createCollection({ collectionName: 'c', externalSource: lake(2000, 1), externalSpec: { format: 'counted' } });
    ({ jobId } = await engine.refreshExternalCollection({ collectionName: 'c' }));
    const info = await engine.waitForRefresh(jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('CANCELLED');
    // the batch in flight may finish, nothing after it starts
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(64);
    await expect(engine.getManifest({ collectionName: 'c' })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });
});

describe('a refresh that names another source', () => {
  it('scans that source, records it in the manifest and keeps it for later refreshes', async () => {
    const a = lake(2, 5);
    const b = lake(3, 5);
    const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: a, externalSpec: { format: 'jsonl' } });
    const first = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(first.state).toBe('RefreshCompleted');
    expect((await engine.getManifest({ collectionName: 'c' })).totalRows).toBe(10);

    const moved = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c', externalSource: b })).jobId);
    expect(moved.externalSource).toBe(b);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.externalSource).toBe(b);
    expect(m.totalRows).toBe(15);
    expect((await engine.describeCollection({ collectionName: 'c' })).externalSource).toBe(b);

    // the next plain refresh keeps using b
    const again = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(again.externalSource).toBe(b);
    expect(again.committed).toBe(false);
  });
});

describe('FIELD_TYPE_UNSUPPORTED', () => {
  it('refuses a declared field whose column holds only nulls', async () => {
    const scanner: FileScanner = {
      kind: 'file',
      format: 'nulls',
      extensions: ['.jsonl'],
      probe: (file) => ({
        rows: 1,
        units: [{ rows: 1, byteSize: file.size }],
        schema: new Schema([new Field('id', new Int32(), false), new Field('nothing', new Null(), true)]),
      }),
    };
    const engine = new RefreshEngine({ root: tempDir(), scanners: [scanner] });
    await engine.createCollection({
      collectionName: 'c',
      externalSource: lake(1),
      externalSpec: { format: 'nulls' },
      fields: [{ name: 'pk', externalField: 'id' }, { name: 'n', externalField: 'nothing' }],
    });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('FIELD_TYPE_UNSUPPORTED');
    expect(info.reason).toMatch(/field "n": column "nothing"/);
  });
});

describe('keepVersions and keepJobs', () => {
  it('keeps only the newest keepVersions manifest versions', async () => {
    const source = lake(1);
    const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], keepVersions: 2 });
    await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
    for (let i = 0; i < 4; i++) {
      writeJsonl(path.join(source, `more-${i}.jsonl`), 1, 1000 + i);
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(info.version).toBe(i + 1);
    }
    expect(await engine.listManifestVersions({ collectionName: 'c' })).toEqual([3, 4]);
    await expect(engine.getManifest({ collectionName: 'c', version: 2 })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    expect((await engine.getManifest({ collectionName: 'c', version: 3 })).version).toBe(3);
  });

  it('forgets the oldest finished jobs beyond keepJobs', async () => {
    const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], keepJobs: 2 });
    await engine.createCollection({ collectionName: 'c', externalSource: lake(1), externalSpec: { format: 'jsonl' } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
      await engine.waitForRefresh(jobId);
      ids.push(jobId);
    }
    expect(engine.listRefreshExternalCollectionJobs({ collectionName: 'c' }).map((j) => j.jobId)).toEqual(ids.slice(1));
    expect(() => engine.getRefreshExternalCollectionProgress(ids[0]!)).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });
});

describe('job events', () => {
  it('arrive in order: pending→in progress, rising progress, then in progress→completed at 100', async () => {
    const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake(5), externalSpec: { format: 'jsonl' } });
    const seen: string[] = [];
    const progress: number[] = [];
    engine.on('statechange', (e: RefreshJobEvent) => seen.push(`${e.previousState}>${e.job.state}`));
    engine.on('progress', (e: RefreshJobEvent) => {
      seen.push('progress');
      progress.push(e.job.progress);
    });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshCompleted');
    expect(seen[0]).toBe('RefreshPending>RefreshInProgress');
    expect(seen.at(-1)).toBe('RefreshInProgress>RefreshCompleted');
    expect(seen.slice(1, -1).every((s) => s === 'progress')).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(new Set(progress).size).toBe(progress.length);
    expect(Math.max(...progress)).toBeLessThan(100);
  });
});
