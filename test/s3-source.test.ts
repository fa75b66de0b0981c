// S3 sources end to end against a real S3 protocol server (s3rver on 127.0.0.1, started here).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, openStorage, type Manifest, type RefreshEngineOptions } from 'lakemap';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable } from '../fixtures/iceberg/sample-tables.js';
import { writeEventsTable } from '../fixtures/lance/lancedb-tables.js';
import { loadOptional } from '../src/storage/options.js';
import { gcsViaS3, MemoryStorage } from '../docs/examples/custom-storage.js';
import { startS3, walk, S3_KEY, S3_SECRET, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

let s3: S3Server;
let lake: string;
const opts = (): RefreshEngineOptions => ({ storageOptions: { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('lake');
  lake = tempDir();
  await writeExampleLake(lake);
  await s3.upload(lake, 'lake', 'trips');
});
afterAll(async () => s3?.close());

async function refresh(engine: RefreshEngine, collectionName: string, externalSource?: string) {
  const { jobId } = await engine.refreshExternalCollection({ collectionName, ...(externalSource ? { externalSource } : {}) });
  return engine.waitForRefresh(jobId);
}

/** What must agree between a local and a remote mapping of the same data. */
function shape(m: Manifest) {
  return {
    totalRows: m.totalRows,
    physicalRows: m.physicalRows,
    schema: m.schema.fields,
    files: m.files.map((f) => ({ path: f.path, size: f.sizeBytes, rows: f.rows, liveRows: f.liveRows, units: f.units })),
    segmentRows: m.segments.map((s) => s.ranges),
  };
}

async function localManifest(source: string, spec: object): Promise<Manifest> {
  const engine = new RefreshEngine({ root: tempDir() });
  await engine.createCollection({ collectionName: 'local', externalSource: source, externalSpec: spec as { format: string } });
  const info = await refresh(engine, 'local');
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine.getManifest({ collectionName: 'local' });
}

describe('s3:// sources', () => {
  it('maps a DuckDB-written lake row-exact as the local refresh does, with ETags, then a no-change refresh sends no GET', async () => {
    const local = await localManifest(lake, { format: 'parquet' });
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await engine.createCollection({ collectionName: 'trips', externalSource: 's3://lake/trips', externalSpec: { format: 'parquet' } });
    const gets0 = s3.counts.GET ?? 0;
    const first = await refresh(engine, 'trips');
    expect(first.state, first.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'trips' });
    expect(shape(m)).toEqual(shape(local));
    expect(m.resolvedSource).toBe('s3://lake/trips');
    expect(m.files.every((f) => typeof f.etag === 'string' && f.etag.length > 0)).toBe(true);
    // One ranged GET per file (the footers are small) plus one listing GET; no HEAD.
    expect((s3.counts.GET ?? 0) - gets0).toBe(m.files.length + 1);

    const gets1 = s3.counts.GET ?? 0;
    const heads1 = s3.counts.HEAD ?? 0;
    const again = await refresh(engine, 'trips');
    expect(again.state, again.reason).toBe('RefreshCompleted');
    expect(again.committed).toBe(false);
    expect(again.version).toBe(1);
    expect((s3.counts.GET ?? 0) - gets1).toBe(1); // the listing only
    expect(s3.counts.HEAD ?? 0).toBe(heads1);
  });

  it('gives an object overwritten in place (same size, same footer) new segment ids', async () => {
    const src = tempDir();
    await writeExampleLake(src);
    await s3.upload(src, 'lake', 'rewrite');
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await engine.createCollection({ collectionName: 'rw', externalSource: 's3://lake/rewrite', externalSpec: { format: 'parquet' } });
    expect((await refresh(engine, 'rw')).state).toBe('RefreshCompleted');
    const before = await engine.getManifest({ collectionName: 'rw' });
    const target = before.files[0]!.path;
    const bytes = fs.readFileSync(path.join(src, target));
    bytes[8] = bytes[8]! ^ 0xff; // a data byte: same size, same footer and tail
    await s3.put('lake', `rewrite/${target}`, bytes);
    const info = await refresh(engine, 'rw');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.committed).toBe(true);
    expect(info.changes?.modifiedPaths).toEqual([target]);
    const after = await engine.getManifest({ collectionName: 'rw' });
    const ids = (m: Manifest, p: string) => m.segments.filter((s) => s.ranges[0]!.path === p).map((s) => s.id);
    expect(ids(after, target).length).toBeGreaterThan(0);
    for (const id of ids(after, target)) expect(ids(before, target)).not.toContain(id);
    const other = before.files[1]!.path;
    expect(ids(after, other)).toEqual(ids(before, other));
  });

  it('maps an iceberg table whose metadata names s3:// files in place, with the same rows as locally', async () => {
    const dir = tempDir();
    writeFixtureTable(dir, { ...historyTable(), location: 's3://lake/wh/db/events' });
    await s3.upload(dir, 'lake', 'wh/db/events');
    const local = await localManifest(dir, { format: 'iceberg-table' });
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await engine.createCollection({ collectionName: 'ice', externalSource: 's3://lake/wh/db/events', externalSpec: { format: 'iceberg-table' } });
    const info = await refresh(engine, 'ice');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'ice' });
    expect(m.tableVersion).toBe(local.tableVersion);
    expect(shape(m)).toEqual(shape(local));
  });

  it('maps a lance dataset written by lancedb with the same rows as locally', async () => {
    const dir = tempDir();
    const { datasetDir } = await writeEventsTable(dir);
    await s3.upload(datasetDir, 'lake', 'lance/events.lance');
    const local = await localManifest(datasetDir, { format: 'lance-table' });
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await engine.createCollection({ collectionName: 'events', externalSource: 's3://lake/lance/events.lance', externalSpec: { format: 'lance-table' } });
    const info = await refresh(engine, 'events');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'events' });
    expect(m.tableVersion).toBe(local.tableVersion);
    expect(m.totalRows).toBe(local.totalRows);
    expect(m.files.map((f) => [f.path, f.rows, f.liveRows])).toEqual(local.files.map((f) => [f.path, f.rows, f.liveRows]));
    expect(m.segments.map((s) => s.id)).toEqual(local.segments.map((s) => s.id));
  });

  it('fails a missing bucket, denied credentials and an empty prefix with their own codes, naming the URL and no secret; the previous manifest stays', async () => {
    const secret = 'wrong-secret-0123456789abcdef';
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await engine.createCollection({ collectionName: 'c', externalSource: 's3://lake/trips', externalSpec: { format: 'parquet' } });
    expect((await refresh(engine, 'c')).state).toBe('RefreshCompleted');

    const noBucket = await refresh(engine, 'c', 's3://no-such-bucket/trips');
    expect([noBucket.state, noBucket.errorCode]).toEqual(['RefreshFailed', 'BUCKET_NOT_FOUND']);
    expect(noBucket.reason).toContain('s3://no-such-bucket/trips');

    const empty = await refresh(engine, 'c', 's3://lake/nothing-here');
    expect([empty.state, empty.errorCode]).toEqual(['RefreshFailed', 'NO_FILES']);
    expect(empty.reason).toContain('s3://lake/nothing-here');

    const denied = new RefreshEngine({ root: engine.root, storageOptions: { endpoint: s3.endpoint, accessKeyId: 'NOT-A-KEY', secretAccessKey: secret, retries: 0 } });
    const d = await refresh(denied, 'c');
    expect([d.state, d.errorCode]).toEqual(['RefreshFailed', 'ACCESS_DENIED']);
    expect(d.reason).toContain('s3://lake/trips');

    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.version).toBe(1);
    expect(m.externalSource).toBe('s3://lake/trips');
    // The secret is nowhere: not in job records, not in anything written under the engine's root.
    const records = JSON.stringify([engine.listRefreshExternalCollectionJobs(), denied.listRefreshExternalCollectionJobs()]);
    expect(records).not.toContain(secret);
    expect(records).not.toContain(S3_SECRET);
    for (const f of walkFiles(engine.root)) {
      const text = fs.readFileSync(f, 'utf8');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(S3_SECRET);
    }
  });

  it('refuses secrets in the spec (it is written into manifests) but takes non-secret storage_options', async () => {
    const engine = new RefreshEngine({ root: tempDir(), ...opts() });
    await expect(
      engine.createCollection({ collectionName: 'x', externalSource: 's3://lake/trips', externalSpec: { format: 'parquet', storage_options: { secretAccessKey: 'abc' } } }),
    ).rejects.toMatchObject({ code: 'INVALID_SPEC', message: expect.not.stringContaining('abc') });
    await engine.createCollection({ collectionName: 'y', externalSource: 's3://lake/trips', externalSpec: { format: 'parquet', storage_options: { concurrency: 2, region: 'eu-west-1' } } });
    const info = await refresh(engine, 'y');
    expect(info.state, info.reason).toBe('RefreshCompleted');
  });

  it('refuses credentials or a query in the URL, and unknown schemes', async () => {
    const engine = new RefreshEngine({ root: tempDir() });
    for (const bad of ['s3://key:secret@lake/x', 's3://lake/x?X-Amz-Signature=abc', 'gs://lake/x']) {
      await expect(engine.createCollection({ collectionName: 'z', externalSource: bad, externalSpec: { format: 'parquet' } })).rejects.toMatchObject({ code: 'INVALID_SOURCE' });
    }
  });

  it('plugs in a user storage for its own scheme', async () => {
    const seen: string[] = [];
    const engine = new RefreshEngine({
      root: tempDir(),
      storage: {
        gs: (url, ctx) => {
          seen.push(url);
          // The documented GCS factory, pointed at the local S3 server instead of storage.googleapis.com.
          return gcsViaS3(url, { ...ctx, options: { ...ctx.options, endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
        },
        mem: (url) => new MemoryStorage(url, new Map(walk(lake).map((p) => [p, new Uint8Array(fs.readFileSync(path.join(lake, p)))]))),
      },
    });
    await engine.createCollection({ collectionName: 'g', externalSource: 'gs://lake/trips', externalSpec: { format: 'parquet' } });
    const info = await refresh(engine, 'g');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(seen).toEqual(['gs://lake/trips']);
    const local = await localManifest(lake, { format: 'parquet' });
    expect(shape(await engine.getManifest({ collectionName: 'g' }))).toEqual(shape(local));
    await engine.createCollection({ collectionName: 'm', externalSource: 'mem://lake', externalSpec: { format: 'parquet' } });
    const mem = await refresh(engine, 'm');
    expect(mem.state, mem.reason).toBe('RefreshCompleted');
    expect(shape(await engine.getManifest({ collectionName: 'm' }))).toEqual(shape(local));
  });

  it('lists past one page of 1,000 keys', async () => {
    await s3.bucket('many');
    const keys = Array.from({ length: 1003 }, (_, i) => `p/k${String(i).padStart(4, '0')}.bin`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s3.put('many', k, 'x')));
    const storage = await openStorage('s3://many/p', { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET });
    const listed = await storage.list();
    expect(listed.map((f) => f.path)).toEqual(keys.map((k) => k.slice(2)));
    expect(listed.every((f) => f.size === 1 && !!f.etag)).toBe(true);
  });

  it('names the package to install when an optional SDK is missing', async () => {
    await expect(loadOptional('@lakemap-test/not-installed', 's3://')).rejects.toMatchObject({
      code: 'MISSING_DEPENDENCY',
      message: expect.stringContaining('npm install @lakemap-test/not-installed'),
    });
  });
});

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}
