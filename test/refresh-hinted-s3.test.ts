// `changedPaths` on object-store sources: a refresh told what changed looks at those keys alone (a HEAD
// and a listing below each, counted at the server) instead of listing the whole prefix, and commits
// the manifest a full refresh gives (a second engine on its own root refreshes in full after each
// change). s3rver and azurite on 127.0.0.1, started here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import type { Manifest, RefreshJobInfo } from '../src/types.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { startAzurite, startS3, S3_KEY, S3_SECRET, type AzureServer, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';
import { refresh } from './helpers/engine-kit.js';
import { mergeHinted } from '../src/scan/hinted-listing.js';

const OBJECTS = 300;
let s3: S3Server;
let az: AzureServer;
let dir: string;
let paths: string[];
const bytes = (i: number): Buffer => fs.readFileSync(path.join(dir, paths[i]!));

beforeAll(async () => {
  [s3, az] = await Promise.all([startS3(), startAzurite()]);
  dir = tempDir();
  ({ paths } = await writeManyParquetFiles(dir, OBJECTS));
}, 120_000);
afterAll(async () => {
  await s3?.close();
  await az?.close();
});

const strip = (m: Manifest) => {
  const { createdAt: _c, jobId: _j, version: _v, ...rest } = m;
  return rest;
};

/** A hinted engine and a full-listing one on their own roots, compared after each change. */
async function pair(options: ConstructorParameters<typeof RefreshEngine>[0], externalSource: string) {
  const hinted = new RefreshEngine({ ...options, root: tempDir() });
  const full = new RefreshEngine({ ...options, root: tempDir() });
  for (const e of [hinted, full]) {
    await e.createCollection({ collectionName: 'c', externalSource, externalSpec: { format: 'parquet' } });
    expect((await refresh(e)).state).toBe('RefreshCompleted');
  }
  /** Refreshes `e` with the hint and the full engine without; both manifests must be alike. */
  const step = async (changedPaths: string[], e: RefreshEngine = hinted): Promise<RefreshJobInfo> => {
    const info = await refresh(e, changedPaths);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const oracle = await refresh(full);
    expect(oracle.state, oracle.reason).toBe('RefreshCompleted');
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await full.getManifest({ collectionName: 'c' })));
    return info;
  };
  return { hinted, full, step };
}

/** The listing requests s3rver saw since `from`, by their `prefix` parameter. */
function listedPrefixes(from: number): string[] {
  return s3.requests
    .slice(from)
    .filter((r) => r.method === 'GET' && /[?&](list-type|prefix)=/.test(r.url))
    .map((r) => new URLSearchParams(r.url.split('?')[1] ?? '').get('prefix') ?? '');
}

describe('a hinted refresh of an S3 source', () => {
  it('looks at the hinted keys only and commits what a full refresh commits', async () => {
    await s3.bucket('hint');
    for (let i = 0; i < OBJECTS; i += 20) await Promise.all(paths.slice(i, i + 20).map((p, k) => s3.put('hint', `lake/${p}`, bytes(i + k))));
    const options = { workers: 0, storageOptions: { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } };
    const { hinted, full, step } = await pair(options, 's3://hint/lake');

    // A new object in an existing folder, hinted by its key.
    let mark = s3.requests.length;
    await s3.put('hint', 'lake/d000/extra.parquet', bytes(1));
    let info = await step(['d000/extra.parquet']);
    expect(info).toMatchObject({ committed: true, hint: { listing: 'hinted', paths: 1 } });
    expect(info.changes?.addedPaths).toEqual(['d000/extra.parquet']);
    expect(listedPrefixes(mark)).toContain('lake/d000/extra.parquet/'); // the key as a folder
    expect(listedPrefixes(mark).filter((p) => p === 'lake/')).toHaveLength(1); // the full engine's listing only

    // An object rewritten in place with other bytes, and one removed, hinted by their folder.
    await s3.put('hint', `lake/${paths[2]}`, bytes(3));
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'hint', Key: `lake/${paths[4]}` }));
    info = await step([path.posix.dirname(paths[2]!), paths[4]!]);
    expect(info).toMatchObject({ committed: true, hint: { listing: 'hinted' } });
    expect(info.changes?.removedPaths).toEqual([paths[4]]);
    expect(info.changes?.modifiedPaths).toEqual([paths[2]]);

    // A new folder with a matching object, a hidden one, an `_` folder and a file of another kind;
    // a hinted key that does not exist.
    await s3.put('hint', 'lake/new/part-1.parquet', bytes(5));
    await s3.put('hint', 'lake/new/.part-2.parquet', bytes(6));
    await s3.put('hint', 'lake/new/_tmp/part-3.parquet', bytes(7));
    await s3.put('hint', 'lake/new/notes.txt', 'not parquet');
    info = await step(['new', 'gone/part-9.parquet']);
    expect(info).toMatchObject({ committed: true, hint: { listing: 'hinted', paths: 2 } });
    expect(info.changes?.addedPaths).toEqual(['new/part-1.parquet']);

    // A new engine on the hinted root (as the CLI is): the file index, not the manifest, is where it starts.
    const fresh = new RefreshEngine({ ...options, root: hinted.root });
    await s3.put('hint', 'lake/new/part-4.parquet', bytes(8));
    mark = s3.requests.length;
    info = await step(['new/part-4.parquet'], fresh);
    expect(info).toMatchObject({ committed: true, hint: { listing: 'hinted', paths: 1 } });
    expect(info.changes?.addedPaths).toEqual(['new/part-4.parquet']);

    // Nothing changed: `[]` costs no request at all.
    mark = s3.requests.length;
    info = await refresh(fresh, []);
    expect(info).toMatchObject({ state: 'RefreshCompleted', committed: false, hint: { listing: 'hinted', paths: 0 } });
    expect(s3.requests.length).toBe(mark);

    // The same from the engine holding the manifest (ETags known for every file).
    mark = s3.requests.length;
    info = await refresh(hinted, []);
    expect(info).toMatchObject({ state: 'RefreshCompleted', committed: false, hint: { listing: 'hinted', paths: 0 } });
    expect(s3.requests.length).toBe(mark);

    // More paths than 1% of the objects (at least 64; a quarter on local disk): the whole prefix is
    // listed, and the job says why.
    info = await refresh(hinted, Array.from({ length: 70 }, (_, i) => `d000/none-${i}.parquet`));
    expect(info).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'full', paths: 70 } });
    expect(info.hint?.reason).toMatch(/70 changed paths, more than the 64 a hinted listing takes for 302 files/);
    await Promise.all([hinted.close(), full.close(), fresh.close()]);
  }, 300_000); // a hang guard: 300 objects refreshed by two engines, slow under load
});

describe('a hinted refresh of an Azure source', () => {
  it('commits what a full refresh commits', async () => {
    await az.container('hint');
    for (let i = 0; i < 12; i++) await az.put('hint', `lake/${paths[i]}`, bytes(i));
    const { hinted, full, step } = await pair({ workers: 0, storageOptions: { connectionString: az.connectionString } }, 'az://hint/lake');
    await az.put('hint', 'lake/d000/extra.parquet', bytes(13));
    await az.put('hint', `lake/${paths[1]}`, bytes(14));
    const info = await step(['d000/extra.parquet', paths[1]!]);
    expect(info).toMatchObject({ committed: true, hint: { listing: 'hinted', paths: 2 } });
    expect(info.changes?.addedPaths).toEqual(['d000/extra.parquet']);
    expect(info.changes?.modifiedPaths).toEqual([paths[1]]);
    await Promise.all([hinted.close(), full.close()]);
  });
});

describe('the hinted merge on object stores', () => {
  it('keeps the ETags the index knows for the rows it keeps, so a no-change check compares them', () => {
    const index = { paths: ['a/1.parquet', 'a/2.parquet', 'b/1.parquet'], sizes: [1, 2, 3], mtimes: [10, 20, 30], etags: ['e1', undefined, 'e3'] };
    const fresh = [{ path: 'a/2.parquet', size: 5, mtimeMs: 50, etag: 'n2' }];
    expect(mergeHinted(index, ['a'], fresh)).toEqual([
      { path: 'a/2.parquet', size: 5, mtimeMs: 50, etag: 'n2' },
      { path: 'b/1.parquet', size: 3, mtimeMs: 30, etag: 'e3' },
    ]);
    expect(mergeHinted(index, ['a/2.parquet'], [])).toEqual([
      { path: 'a/1.parquet', size: 1, mtimeMs: 10, etag: 'e1' },
      { path: 'b/1.parquet', size: 3, mtimeMs: 30, etag: 'e3' },
    ]);
  });
});
