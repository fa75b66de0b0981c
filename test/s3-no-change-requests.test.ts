// What a refresh of 1,000 objects costs on S3, counted at the server (s3rver on 127.0.0.1, started
// here): the first refresh is one listing plus one ranged GET per object; a no-change refresh is the
// listing alone (no GET or HEAD of any object), from the same engine and from a new one on the same
// root (as the CLI is). Counts, not timings: the bench measures time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { startS3, S3_KEY, S3_SECRET, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

const OBJECTS = 1000;
let s3: S3Server;
let rows: number;
let lakeDir: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('many');
  const dir = (lakeDir = tempDir());
  const lake = await writeManyParquetFiles(dir, OBJECTS);
  rows = lake.rows;
  // Uploaded 16 at a time by a plain loop, not lakemap's mapBounded: lakemap run from beforeAll makes Stryker
  // mutants static (docs/testing.md).
  for (let i = 0; i < lake.paths.length; i += 16) {
    await Promise.all(lake.paths.slice(i, i + 16).map((p) => s3.put('many', `lake/${p}`, fs.readFileSync(path.join(dir, p)))));
  }
}, 120_000);
afterAll(async () => s3?.close());

describe('requests of a refresh of 1,000 S3 objects', () => {
  it('a full refresh is one listing and one ranged GET per object; a no-change refresh is the listing only', async () => {
    const root = tempDir();
    const options = { root, storageOptions: { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } };
    const engine = new RefreshEngine(options);
    await engine.createCollection({ collectionName: 'c', externalSource: 's3://many/lake', externalSpec: { format: 'parquet' } });
    const refresh = async (e: RefreshEngine) => {
      const before = { ...s3.counts };
      const info = await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
      const delta = (m: string): number => (s3.counts[m] ?? 0) - (before[m] ?? 0);
      return { info, get: delta('GET'), head: delta('HEAD'), other: Object.keys(s3.counts).filter((m) => m !== 'GET' && m !== 'HEAD' && delta(m) > 0) };
    };

    const full = await refresh(engine);
    expect((await engine.getManifest({ collectionName: 'c' })).totalRows).toBe(rows);
    expect(full.get).toBe(OBJECTS + 1); // one listing page of 1,000 keys, one tail per object
    expect(full.head).toBe(0);

    const same = await refresh(engine);
    expect(same.info.committed).toBe(false);
    expect(same.get).toBe(1); // the listing
    expect(same.head).toBe(0);
    expect(same.other).toEqual([]);

    const fresh = new RefreshEngine(options); // a new process, as the CLI: the stored manifest is all it has
    const again = await refresh(fresh);
    expect(again.info.committed).toBe(false);
    expect(again.get).toBe(1);
    expect(again.head).toBe(0);

    // One object rewritten (with another object's bytes): the listing and that object's tail, nothing else.
    await s3.put('many', 'lake/d003/part-00345.parquet', fs.readFileSync(path.join(lakeDir, 'd003', 'part-00346.parquet')));
    const one = await refresh(fresh);
    expect(one.info.committed).toBe(true);
    expect(one.get).toBe(2);
    expect(one.head).toBe(0);
    await engine.close();
    await fresh.close();
  });
});
