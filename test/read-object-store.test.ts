// Reading segments of collections whose source is in object storage (s3rver and azurite on 127.0.0.1,
// started here): batches equal the local read of the same files (DuckDB-written parquet, fixture
// vortex, an iceberg table with a position delete); the requests are the footer tail and the planned
// column-chunk ranges (no whole-object GET, no HEAD: the manifest knows the size); a changed object is
// SOURCE_CHANGED, a footer above the read budget is refused after the tail GET, cancellation stops
// the read, a truncated object is CORRUPT_FILE.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, type Manifest } from '../src/index.js';
import { readSegmentRows } from '../src/read/read.js';
import { readFooter } from '../src/read/parquet/footer.js';
import { rowGroupReads } from '../src/read/parquet/reader.js';
import { outputColumns } from '../src/read/segment.js';
import { SourceFile } from '../src/read/source-file.js';
import { readVortexMeta } from '../src/read/vortex/meta.js';
import { COALESCE_GAP, ObjectFile, coalesce } from '../src/read/remote/object-file.js';
import { loadParquetFooter, readParquetObject } from '../src/read/remote/parquet.js';
import { loadVortexMeta } from '../src/read/remote/vortex.js';
import { openStorage } from '../src/storage/open.js';
import type { ObjectStorage } from '../src/storage/object-store.js';
import { writeVectorParquet } from '../fixtures/read/vectors.js';
import { sqlString, withDuckDB } from '../fixtures/parquet/index.js';
import { primitiveArray, varBinViewArray } from '../fixtures/vortex/arrays.js';
import { writeVortexFile, type FixtureLayout } from '../fixtures/vortex/file-writer.js';
import { PType } from '../fixtures/vortex/flatbuffers.js';
import { startAzurite, startS3, S3_KEY, S3_SECRET, type AzureServer, type S3Server } from './helpers/object-servers.js';
import { arrowRows } from './helpers/canonical-rows.js';
import { LIVE_IDS, writePositionDeleteTable } from './helpers/iceberg-delete-table.js';
import { writeEqualityTable } from './helpers/iceberg-equality-table.js';
import { tempDir, writeFile } from './helpers/tmp.js';

let s3: S3Server;
let pqDir: string;
const PQ = { rows: 10_000, rowGroupSize: 2048, dim: 16, nullEvery: 7 };

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('lake');
  pqDir = tempDir();
  await writeVectorParquet(path.join(pqDir, 'v.parquet'), PQ);
  for (const prefix of ['pq', 'pq-changed', 'pq-truncated', 'pq-gone']) await s3.upload(pqDir, 'lake', prefix);
}, 120_000);
afterAll(async () => s3?.close());

const s3Options = () => ({ endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET });

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function mapped(source: string, spec: Record<string, unknown>, storageOptions?: Record<string, unknown>): Promise<RefreshEngine> {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0, ...(storageOptions ? { storageOptions } : {}) });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: spec });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine;
}

/** The requests `run` makes, as the server saw them. */
async function requestsOf(run: () => Promise<unknown>): Promise<S3Server['requests']> {
  const before = s3.requests.length;
  await run();
  return s3.requests.slice(before);
}

function rangeOf(r: { range?: string }): [number, number] {
  const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
  if (!m) throw new Error(`not an explicit range: ${r.range}`);
  return [Number(m[1]), Number(m[2]) + 1];
}

/** Both collections map the same ranges (in more than one segment), and each segment reads the same batches; returns the remote manifest. */
async function expectSameSegments(local: RefreshEngine, remote: RefreshEngine): Promise<Manifest> {
  const m = await remote.getManifest({ collectionName: 'c' });
  const l = await local.getManifest({ collectionName: 'c' });
  expect(m.segments.length).toBeGreaterThan(1);
  expect(m.segments.map((s) => s.ranges)).toEqual(l.segments.map((s) => s.ranges)); // ids differ: the ETag is in them
  for (const [i, s] of m.segments.entries()) {
    const want = await collect(local.readSegment({ collectionName: 'c', segmentId: l.segments[i]!.id }));
    const got = await collect(remote.readSegment({ collectionName: 'c', segmentId: s.id }));
    expect(got.map((b) => b.numRows)).toEqual(want.map((b) => b.numRows));
    expect(arrowRows(got)).toEqual(arrowRows(want));
  }
  return m;
}

describe('parquet on S3', () => {
  it('batches equal the local read of the same file, segment by segment and for a column subset', async () => {
    const local = await mapped(pqDir, { format: 'parquet', segment_max_rows: 5000 });
    const remote = await mapped('s3://lake/pq', { format: 'parquet', segment_max_rows: 5000 }, s3Options());
    const m = await expectSameSegments(local, remote);
    const sub = { collectionName: 'c', columns: ['vec', 'id'] };
    expect(arrowRows(await collect(remote.readCollection(sub)))).toEqual(arrowRows(await collect(local.readCollection(sub))));
  });

  it('requests: one tail GET for the footer, then per row group the coalesced chunk ranges of the asked columns; no HEAD, no whole-object GET', async () => {
    const remote = await mapped('s3://lake/pq', { format: 'parquet', segment_max_rows: 5000 }, s3Options());
    const m = await remote.getManifest({ collectionName: 'c' });
    const size = m.files[0]!.sizeBytes;
    const file = new SourceFile(path.join(pqDir, 'v.parquet'), 'v.parquet');
    const footer = readFooter(file);
    file.close();
    for (const columns of [['id'], ['id', 'vec'], undefined]) {
      const seg = m.segments[1]!;
      const r = seg.ranges[0]!;
      const groups = rowGroupReads(footer, { rowOffset: r.rowOffset, rows: r.rows, columns: outputColumns(m, columns).columns });
      const planned = groups.flatMap((g) => coalesce(g.ranges, COALESCE_GAP, 1 << 30));
      const seen = await requestsOf(() => collect(remote.readSegment({ collectionName: 'c', segmentId: seg.id, ...(columns ? { columns } : {}) })));
      expect(seen.every((q) => q.method === 'GET' && q.url.startsWith('/lake/pq/v.parquet'))).toBe(true);
      const ranges = seen.map(rangeOf);
      expect(ranges[0]).toEqual([Math.max(0, size - 65536), size]); // the footer tail first
      expect(ranges.slice(1).sort((a, b) => a[0] - b[0])).toEqual(planned.map(([a, b]) => [a, b]).sort((a, b) => a[0] - b[0]));
      expect(ranges.every(([a, b]) => b - a < size)).toBe(true);
      if (columns?.length === 1) expect(seen.length).toBe(1 + groups.length); // one GET per row group for one column
    }
  });

  it('holds at most two row groups of the requested columns: the one decoded and the one prefetched', async () => {
    const engine = await mapped('s3://lake/pq', { format: 'parquet' }, s3Options());
    const m = await engine.getManifest({ collectionName: 'c' });
    const f = m.files[0]!;
    const storage = (await openStorage('s3://lake/pq', s3Options())) as ObjectStorage;
    const file = new ObjectFile(storage, f.path, { size: f.sizeBytes, etag: f.etag, by: 'the test' });
    const footer = await loadParquetFooter(file);
    const { schema, columns } = outputColumns(m, undefined);
    const req = { rowOffset: 0, rows: f.rows, columns, schema };
    const groupBytes = rowGroupReads(footer, req).map((g) => coalesce(g.ranges, COALESCE_GAP, 1 << 30).reduce((n, [a, b]) => n + b - a, 0));
    expect(groupBytes.length).toBeGreaterThan(3);
    let rows = 0;
    for await (const b of readParquetObject(file, req, footer)) rows += b.numRows;
    expect(rows).toBe(f.rows);
    const pairs = groupBytes.slice(1).map((n, i) => n + groupBytes[i]!);
    expect(file.stats.peak).toBeLessThanOrEqual(Math.max(...pairs));
    expect(file.stats.peak).toBeLessThan(groupBytes.reduce((a, b) => a + b, 0));
    expect(file.stats.live).toBe(0);
  });

  it('a footer longer than the 64 KiB tail costs one more GET, for exactly the bytes before the tail', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'wide.parquet');
    const cols = Array.from({ length: 1500 }, (_, k) => `(i * ${k + 1})::BIGINT AS column_with_a_long_name_${k}`).join(', ');
    await withDuckDB((con) => con.run(`COPY (SELECT ${cols} FROM range(3000) t(i)) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 2048)`));
    const bytes = fs.readFileSync(file);
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    expect(footerLength).toBeGreaterThan(65536);
    await s3.upload(dir, 'lake', 'wide');
    const local = await mapped(dir, { format: 'parquet' });
    const remote = await mapped('s3://lake/wide', { format: 'parquet' }, s3Options());
    const columns = ['column_with_a_long_name_0', 'column_with_a_long_name_1499'];
    let got: RecordBatch[] = [];
    const seen = await requestsOf(async () => (got = await collect(remote.readCollection({ collectionName: 'c', columns }))));
    expect(arrowRows(got)).toEqual(arrowRows(await collect(local.readCollection({ collectionName: 'c', columns }))));
    const size = bytes.length;
    expect(seen.map(rangeOf).slice(0, 2)).toEqual([[size - 65536, size], [size - 8 - footerLength, size - 65536]]);
    expect(seen.length).toBe(2 + 2 * 2); // two row groups, the two columns far apart: two GETs each
  });

  it('an object overwritten with other bytes of the same size is SOURCE_CHANGED (its ETag differs); a deleted one NOT_FOUND', async () => {
    const engine = await mapped('s3://lake/pq-changed', { format: 'parquet' }, s3Options());
    const bytes = new Uint8Array(fs.readFileSync(path.join(pqDir, 'v.parquet')));
    bytes[100] ^= 0xff;
    await s3.put('lake', 'pq-changed/v.parquet', bytes);
    const err = await collect(engine.readCollection({ collectionName: 'c' })).catch((e) => e);
    expect(err).toMatchObject({ code: 'SOURCE_CHANGED', path: 'v.parquet' });
    expect(err.message).toMatch(/ETag .* → .*refresh the collection/);

    const gone = await mapped('s3://lake/pq-gone', { format: 'parquet' }, s3Options());
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'pq-gone/v.parquet' }));
    const missing = await collect(gone.readCollection({ collectionName: 'c' })).catch((e) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    expect(missing.message).not.toContain(S3_SECRET);
  });

  it('a footer longer than the read budget is refused after the tail GET alone', async () => {
    const engine = await mapped('s3://lake/pq', { format: 'parquet' }, s3Options());
    const bytes = fs.readFileSync(path.join(pqDir, 'v.parquet'));
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    const budget = 1024;
    expect(footerLength).toBeGreaterThan(budget);
    let err: unknown;
    const seen = await requestsOf(async () => {
      err = await collect(engine.readCollection({ collectionName: 'c', readBudgetBytes: budget })).catch((e) => e);
    });
    expect(err).toMatchObject({ code: 'UNSUPPORTED', path: 'v.parquet' });
    expect((err as Error).message).toMatch(new RegExp(`the footer is ${footerLength} bytes, above the ${budget}-byte read budget`));
    expect(seen.map(rangeOf)).toEqual([[bytes.length - budget, bytes.length]]);
  });

  it('an abort between row groups ends the read with CANCELLED; one before the first fetch too', async () => {
    const engine = await mapped('s3://lake/pq', { format: 'parquet' }, s3Options());
    const ctl = new AbortController();
    const batches: RecordBatch[] = [];
    const err = await (async () => {
      for await (const b of engine.readCollection({ collectionName: 'c', signal: ctl.signal })) {
        batches.push(b);
        ctl.abort();
      }
    })().catch((e) => e);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect(batches.length).toBe(1);

    const early = new AbortController();
    const it = engine.readCollection({ collectionName: 'c', signal: early.signal })[Symbol.asyncIterator]();
    const first = it.next();
    early.abort();
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a truncated object (its identity matching the manifest) is CORRUPT_FILE naming the file', async () => {
    const engine = await mapped('s3://lake/pq-truncated', { format: 'parquet' }, s3Options());
    const m = await engine.getManifest({ collectionName: 'c' });
    const bytes = fs.readFileSync(path.join(pqDir, 'v.parquet'));
    await s3.put('lake', 'pq-truncated/v.parquet', bytes.subarray(0, bytes.length - 100));
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'lake', Key: 'pq-truncated/v.parquet' }));
    // As if the manifest had been made of the truncated object: only its bytes are wrong.
    const patched: Manifest = { ...m, files: m.files.map((f) => ({ ...f, sizeBytes: head.ContentLength!, etag: head.ETag!.replace(/"/g, '') })) };
    const err = await collect(readSegmentRows(patched, m.segments[0]!.id, { storage: s3Options() })).catch((e) => e);
    expect(err).toMatchObject({ code: 'CORRUPT_FILE', path: 'v.parquet' });
    expect(err.message).toMatch(/parquet magic/);
  });
});

describe('vortex on S3', () => {
  const CHUNK = 5000;
  const chunk = (k: number): FixtureLayout => {
    const ids = Array.from({ length: CHUNK }, (_, i) => BigInt(k * CHUNK + i));
    return {
      id: 'vortex.struct',
      rows: CHUNK,
      children: [
        { id: 'vortex.flat', rows: CHUNK, array: primitiveArray('I64', ids) },
        { id: 'vortex.flat', rows: CHUNK, array: varBinViewArray(ids.map((i) => (i % 5n === 0n ? null : `name-${i}`))) },
        { id: 'vortex.flat', rows: CHUNK, array: primitiveArray('F64', ids.map((i) => Number(i) / 4)) },
      ],
    };
  };
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    const layout: FixtureLayout = { id: 'vortex.chunked', rows: 4 * CHUNK, children: [0, 1, 2, 3].map(chunk) };
    writeFile(path.join(dir, 'a.vortex'), writeVortexFile({
      dtype: { kind: 'struct', fields: [['id', { kind: 'primitive', ptype: PType.I64 }], ['name', { kind: 'utf8', nullable: true }], ['x', { kind: 'primitive', ptype: PType.F64 }]] },
      layout,
    }).bytes);
    await s3.upload(dir, 'lake', 'vx');
  });

  it('batches equal the local read; requests are the footer tail, the leading magic and one GET per chunk of the asked column', async () => {
    const local = await mapped(dir, { format: 'vortex', segment_max_rows: 10_000 });
    const remote = await mapped('s3://lake/vx', { format: 'vortex', segment_max_rows: 10_000 }, s3Options());
    const m = await expectSameSegments(local, remote);
    const size = m.files[0]!.sizeBytes;
    const seen = await requestsOf(() => collect(remote.readSegment({ collectionName: 'c', segmentId: m.segments[1]!.id, columns: ['id'] })));
    expect(seen.every((q) => q.method === 'GET')).toBe(true);
    const ranges = seen.map(rangeOf);
    expect(ranges.slice(0, 2).sort((a, b) => a[0] - b[0])).toEqual([[0, 4], [size - 65544, size]]);
    // exactly the id segments of the segment's two chunks, as the footer's segment map places them
    const f = new SourceFile(path.join(dir, 'a.vortex'), 'a.vortex');
    const meta = readVortexMeta(f);
    f.close();
    const idSegment = (k: number): number[] => {
      const spec = meta.footer.segments[meta.layout.children[k]!.children[0]!.segments[0]!]!;
      return [spec.offset, spec.offset + spec.length];
    };
    expect(ranges.slice(2)).toEqual([idSegment(2), idSegment(3)]);
  });

  it('footer segments before the 64 KiB tail (a layout of 4,000 chunks) cost one more GET, ending at the tail', async () => {
    const many = tempDir();
    const chunks: FixtureLayout[] = Array.from({ length: 4000 }, (_, k) => ({
      id: 'vortex.struct',
      rows: 2,
      children: [{ id: 'vortex.flat', rows: 2, array: primitiveArray('I64', [BigInt(2 * k), BigInt(2 * k + 1)]) }],
    }));
    const bytes = writeVortexFile({ dtype: { kind: 'struct', fields: [['id', { kind: 'primitive', ptype: PType.I64 }]] }, layout: { id: 'vortex.chunked', rows: 8000, children: chunks } }).bytes;
    writeFile(path.join(many, 'm.vortex'), bytes);
    await s3.upload(many, 'lake', 'vx-many');
    const f = new SourceFile(path.join(many, 'm.vortex'), 'm.vortex');
    const meta = readVortexMeta(f);
    f.close();
    const storage = (await openStorage('s3://lake/vx-many', s3Options())) as ObjectStorage;
    const file = new ObjectFile(storage, 'm.vortex', { size: bytes.length, by: 'the test' });
    let remoteMeta: Awaited<ReturnType<typeof loadVortexMeta>> | undefined;
    const seen = await requestsOf(async () => (remoteMeta = await loadVortexMeta(file)));
    expect(remoteMeta!.footer.segments).toEqual(meta.footer.segments);
    expect(remoteMeta!.layout.children.length).toBe(4000);
    const size = bytes.length;
    const tailStart = size - 65544;
    const ranges = seen.map(rangeOf);
    expect(ranges.length).toBe(3);
    expect(ranges.slice(0, 2).sort((x, y) => x[0] - y[0])).toEqual([[0, 4], [tailStart, size]]);
    expect(ranges[2]![1]).toBe(tailStart); // the footer segments before the tail, in one GET ending where the tail starts
    expect(ranges[2]![0]).toBeLessThan(tailStart);
    expect(meta.layout.children.length).toBe(4000);
  });

  it('an overwritten vortex object is SOURCE_CHANGED', async () => {
    await s3.upload(dir, 'lake', 'vx-changed');
    const remote = await mapped('s3://lake/vx-changed', { format: 'vortex' }, s3Options());
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'a.vortex')));
    await s3.put('lake', 'vx-changed/a.vortex', bytes.subarray(0, bytes.length - 1));
    await expect(collect(remote.readCollection({ collectionName: 'c' }))).rejects.toMatchObject({ code: 'SOURCE_CHANGED', path: 'a.vortex' });
  });
});

describe('iceberg on S3', () => {
  it('a table with a position delete reads as locally: the deleted rows gone; the delete file costs one HEAD', async () => {
    const dir = tempDir();
    await writePositionDeleteTable(dir);
    await s3.bucket('warehouse');
    await s3.upload(dir, 'warehouse', 'db/t');
    const local = await mapped(dir, { format: 'iceberg-table' });
    const remote = await mapped('s3://warehouse/db/t', { format: 'iceberg-table' }, s3Options());
    const want = await collect(local.readCollection({ collectionName: 'c' }));
    let got: RecordBatch[] = [];
    const seen = await requestsOf(async () => (got = await collect(remote.readCollection({ collectionName: 'c' }))));
    expect(arrowRows(got)).toEqual(arrowRows(want));
    expect(got.flatMap((b) => [...b.getChild('id')!].map(Number))).toEqual(LIVE_IDS);
    expect(seen.filter((q) => q.method === 'HEAD').map((q) => q.url)).toEqual(['/warehouse/db/t/data/del.parquet']);
    expect(seen.filter((q) => q.method === 'GET').every((q) => q.range !== undefined)).toBe(true);
  });

  it('a table with equality deletes reads as locally: the matching rows gone', async () => {
    const dir = tempDir();
    await writeEqualityTable(dir, {
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [{ id: 1, name: 'id', required: false, type: 'long' }, { id: 2, name: 'name', required: false, type: 'string' }] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1, name: 2 }, sql: `SELECT i::BIGINT AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || (i % 4) END AS name FROM range(20) t(i)` },
        { path: 'data/eq.parquet', seq: 2n, equalityIds: [2], fieldIds: { name: 2 }, sql: `SELECT 'n1' AS name UNION ALL SELECT NULL` },
      ],
    });
    await s3.bucket('eqwh');
    await s3.upload(dir, 'eqwh', 'db/t');
    const local = await mapped(dir, { format: 'iceberg-table' });
    const remote = await mapped('s3://eqwh/db/t', { format: 'iceberg-table' }, s3Options());
    const want = await collect(local.readCollection({ collectionName: 'c' }));
    const got = await collect(remote.readCollection({ collectionName: 'c' }));
    expect(arrowRows(got)).toEqual(arrowRows(want));
    expect(got.flatMap((b) => [...b.getChild('id')!].map(Number))).toEqual([2, 4, 7, 8, 10, 11, 14, 16, 19]);
  });
});

describe('parquet on Azure Blob (azurite)', () => {
  let az: AzureServer;
  beforeAll(async () => {
    az = await startAzurite();
    await az.container('lake');
    await az.upload(pqDir, 'lake', 'pq');
  }, 60_000);
  afterAll(async () => az?.close());

  it('batches equal the local read; an overwritten blob is SOURCE_CHANGED', async () => {
    const local = await mapped(pqDir, { format: 'parquet' });
    const remote = await mapped('az://lake/pq', { format: 'parquet' }, { connectionString: az.connectionString });
    const want = await collect(local.readCollection({ collectionName: 'c', columns: ['id', 'name'] }));
    const got = await collect(remote.readCollection({ collectionName: 'c', columns: ['id', 'name'] }));
    expect(arrowRows(got)).toEqual(arrowRows(want));
    const bytes = new Uint8Array(fs.readFileSync(path.join(pqDir, 'v.parquet')));
    bytes[100] ^= 0xff;
    await az.put('lake', 'pq/v.parquet', bytes);
    await expect(collect(remote.readCollection({ collectionName: 'c' }))).rejects.toMatchObject({ code: 'SOURCE_CHANGED', path: 'v.parquet' });
  });
});
