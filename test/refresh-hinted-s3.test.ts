// `changedPaths` on an object-store source: the whole source is listed (the job says so) and the
// manifest is the one a refresh without the hint gives. s3rver on 127.0.0.1, started here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { startS3, S3_KEY, S3_SECRET, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

let s3: S3Server;
let dir: string;
let paths: string[];
beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('hint');
  dir = tempDir();
  ({ paths } = await writeManyParquetFiles(dir, 6));
  for (const p of paths) await s3.put('hint', `lake/${p}`, fs.readFileSync(path.join(dir, p)));
}, 120_000);
afterAll(async () => s3?.close());

describe('a hinted refresh of an object-store source', () => {
  it('lists the whole source and says why', async () => {
    const e = new RefreshEngine({ root: tempDir(), workers: 0, storageOptions: { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
    await e.createCollection({ collectionName: 'c', externalSource: 's3://hint/lake', externalSpec: { format: 'parquet' } });
    const refresh = async (changedPaths?: string[]) => e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c', ...(changedPaths ? { changedPaths } : {}) })).jobId);
    expect((await refresh()).state).toBe('RefreshCompleted');
    await s3.put('hint', 'lake/d000/extra.parquet', fs.readFileSync(path.join(dir, paths[0]!)));
    const info = await refresh([]); // a hint that omits the new object: the full listing sees it anyway
    expect(info).toMatchObject({ state: 'RefreshCompleted', committed: true, hint: { listing: 'full', paths: 0 } });
    expect(info.hint?.reason).toMatch(/object store/);
    expect(info.changes?.addedPaths).toEqual(['d000/extra.parquet']);
  });
});
