// Reading segments of DuckDB-written parquet (snappy, zstd, gzip; a FLOAT[128] vector; nulls):
// values and order equal DuckDB's, declared fields are renamed and `dim` gives FixedSizeList,
// bad input fails with a clear code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FixedSizeList, Type, type RecordBatch } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from '../src/index.js';
import { SourceFile } from '../src/read/source-file.js';
import { readParquetRange } from '../src/read/parquet/reader.js';
import { readFooter } from '../src/read/parquet/footer.js';
import { vectorSelect, writeVectorParquet, type VectorParquetOptions } from '../fixtures/read/vectors.js';
import { arrowRows, duckRows } from './helpers/canonical-rows.js';
import { tempDir } from './helpers/tmp.js';

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function engineOver(dir: string, fields?: { name: string; externalField: string; dim?: number }[], maxRows = 5000): Promise<RefreshEngine> {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: dir, externalSpec: { format: 'parquet', segment_max_rows: maxRows }, ...(fields ? { fields } : {}) });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine;
}

const base: VectorParquetOptions = { rows: 10_000, rowGroupSize: 2048, dim: 128, nullEvery: 7 };

describe.each(['snappy', 'zstd', 'gzip', 'uncompressed'] as const)('DuckDB-written %s parquet', (codec) => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    await writeVectorParquet(path.join(dir, 'v.parquet'), { ...base, codec });
  });

  it('each segment holds DuckDB rows for its range, one row group per batch', async () => {
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.segments.length).toBeGreaterThan(1);
    const want = await duckRows(vectorSelect(base));
    for (const s of m.segments) {
      const batches = await collect(engine.readSegment({ collectionName: 'c', segmentId: s.id }));
      expect(batches.every((b) => b.numRows <= 2048)).toBe(true);
      const r = s.ranges[0]!;
      expect(arrowRows(batches)).toEqual(want.slice(r.rowOffset, r.rowOffset + r.rows));
    }
    const all = await collect(engine.readCollection({ collectionName: 'c', columns: ['id'] }));
    expect(arrowRows(all).map((r) => r.id)).toEqual(want.map((r) => r.id));
  });
});

describe('declared fields', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    await writeVectorParquet(path.join(dir, 'v.parquet'), { rows: 3000, rowGroupSize: 2048, dim: 16, nullEvery: 5 });
  });

  it('renames columns and reads a vector declared with dim as FixedSizeList<Float32>', async () => {
    const engine = await engineOver(dir, [
      { name: 'pk', externalField: 'id' },
      { name: 'embedding', externalField: 'vec', dim: 16 },
    ]);
    const m = await engine.getManifest({ collectionName: 'c' });
    const batches = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id }));
    const f = batches[0]!.schema.fields;
    expect(f.map((x) => x.name)).toEqual(['pk', 'embedding']);
    expect(f[1]!.type.typeId).toBe(Type.FixedSizeList);
    expect((f[1]!.type as FixedSizeList).listSize).toBe(16);
    const want = await duckRows(`SELECT id AS pk, vec AS embedding FROM (${vectorSelect({ rows: 3000, rowGroupSize: 2048, dim: 16, nullEvery: 5 })})`);
    expect(arrowRows(batches)).toEqual(want);
  });

  it('fails a row whose vector has another width than dim', async () => {
    const engine = await engineOver(dir, [{ name: 'embedding', externalField: 'vec', dim: 15 }]);
    const m = await engine.getManifest({ collectionName: 'c' });
    await expect(collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id }))).rejects.toMatchObject({ code: 'ROW_SHAPE_MISMATCH' });
  });

  it('reads the asked columns in the asked order and refuses unknown ones', async () => {
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    const segmentId = m.segments[0]!.id;
    const b = await collect(engine.readSegment({ collectionName: 'c', segmentId, columns: ['score', 'id'] }));
    expect(b[0]!.schema.fields.map((x) => x.name)).toEqual(['score', 'id']);
    await expect(collect(engine.readSegment({ collectionName: 'c', segmentId, columns: ['nope'] }))).rejects.toMatchObject({ code: 'FIELD_NOT_FOUND' });
    await expect(collect(engine.readSegment({ collectionName: 'c', segmentId: 'nope' }))).rejects.toMatchObject({ code: 'SEGMENT_NOT_FOUND' });
  });

  it('stops with CANCELLED when the signal aborts', async () => {
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    const ac = new AbortController();
    ac.abort();
    await expect(collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id, signal: ac.signal }))).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('reads a row range that starts and ends inside row groups', async () => {
    const file = new SourceFile(path.join(dir, 'v.parquet'), 'v.parquet');
    try {
      const footer = readFooter(file);
      const columns = footer.schema.fields.map((field) => ({ field, external: field.name }));
      const batches = [...readParquetRange(file, { rowOffset: 2000, rows: 100, columns, schema: footer.schema }, footer)];
      expect(batches.map((b) => b.numRows)).toEqual([48, 52]);
      const want = await duckRows(`${vectorSelect({ rows: 3000, rowGroupSize: 2048, dim: 16, nullEvery: 5 })} LIMIT 100 OFFSET 2000`);
      expect(arrowRows(batches)).toEqual(want);
    } finally {
      file.close();
    }
  });
});

describe('bad input', () => {
  it('refuses a file that changed since the manifest (SOURCE_CHANGED)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'v.parquet');
    await writeVectorParquet(file, { rows: 100, rowGroupSize: 2048, dim: 4 });
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    await writeVectorParquet(file, { rows: 200, rowGroupSize: 2048, dim: 4 });
    await expect(collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id }))).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
  });

  it('refuses a column chunk above the read budget before allocating it', async () => {
    const dir = tempDir();
    await writeVectorParquet(path.join(dir, 'v.parquet'), { rows: 3000, rowGroupSize: 2048, dim: 8 });
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id, readBudgetBytes: 1000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(/above the 1000-byte read budget/);
  });

  it('a corrupted page gives CORRUPT_FILE naming the file and column, never rows', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'v.parquet');
    await writeVectorParquet(file, { rows: 3000, rowGroupSize: 2048, dim: 8 });
    fs.utimesSync(file, 1e9, 1e9);
    const engine = await engineOver(dir);
    const m = await engine.getManifest({ collectionName: 'c' });
    const bytes = fs.readFileSync(file);
    const f = new SourceFile(file, 'v.parquet');
    const chunk = readFooter(f).rowGroups[0]!.columns[4]!; // vec
    f.close();
    bytes.fill(0xff, chunk.start, chunk.start + 24); // the first page header
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, 1e9, 1e9); // same size and mtime: only the content tells
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as LakemapError).message).toMatch(/v\.parquet.*column "vec"/);
  });
});

describe('docs/examples/read-segment.ts', () => {
  it('counts every row of a collection, segment by segment', async () => {
    const { countVectors } = await import('../docs/examples/read-segment.js');
    const dir = tempDir();
    await writeVectorParquet(path.join(dir, 'v.parquet'), { rows: 4100, rowGroupSize: 2048, dim: 8 });
    const engine = await engineOver(dir, [{ name: 'pk', externalField: 'id' }, { name: 'embedding', externalField: 'vec', dim: 8 }], 2048);
    expect(await countVectors(engine, 'c')).toBe(4100);
  });
});
