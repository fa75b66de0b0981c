// Schema evolution across files (issue 11): union by name, Iceberg's widenings, conflicts named, per-file
// missing columns. Parquet files are written by DuckDB (a real writer), vortex files by the spec-following
// fixture writer; everything runs through RefreshEngine.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, Decimal, Field, Int32 } from 'apache-arrow';
import { RefreshEngine, manifestArrowSchema } from 'lakemap';
import { sqlString, withDuckDB } from '../fixtures/parquet/duckdb.js';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { PType } from '../fixtures/vortex/flatbuffers.js';
import { flat, structOf } from '../fixtures/vortex/samples.js';
import { typeName } from '../src/manifest/schema-evolution.js';
import { tempDir, writeFile } from './helpers/tmp.js';

/** Writes one parquet file per `select` (a DuckDB SELECT producing the file's columns). */
async function parquetLake(files: Record<string, string>): Promise<string> {
  const dir = tempDir();
  await withDuckDB(async (con) => {
    for (const [name, select] of Object.entries(files)) await con.run(`COPY (${select}) TO ${sqlString(path.join(dir, name))} (FORMAT parquet)`);
  });
  return dir;
}

async function refresh(src: string, spec: Record<string, unknown> = {}, fields?: { name: string; externalField: string }[]) {
  const engine = new RefreshEngine({ root: tempDir() });
  await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'parquet', ...spec }, ...(fields ? { fields } : {}) });
  const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
  const info = await engine.waitForRefresh(jobId);
  const manifest = info.state === 'RefreshCompleted' ? await engine.getManifest({ collectionName: 'c' }) : undefined;
  return { info, manifest };
}

const columns = (m: { schema: { fields: { name: string; type: string; nullable: boolean }[] } }) => m.schema.fields.map((f) => [f.name, f.type, f.nullable]);

describe('union of columns by name', () => {
  it('adds a column that later files have, nullable, and records which files lack it', async () => {
    const src = await parquetLake({
      'a.parquet': `SELECT 1::INTEGER AS id, 'x' AS name`,
      'b.parquet': `SELECT 2::INTEGER AS id, 'y' AS name, 0.5::DOUBLE AS score`,
      'c.parquet': `SELECT 'z' AS name, 3::INTEGER AS id`, // other column order
    });
    const { info, manifest } = await refresh(src);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(columns(manifest!)).toEqual([['id', 'Int32', true], ['name', 'Utf8', true], ['score', 'Float64', true]]);
    expect(manifest!.files.map((f) => [f.path, f.details?.['missingColumns']])).toEqual([['a.parquet', ['score']], ['b.parquet', undefined], ['c.parquet', ['score']]]);
    expect(manifest!.totalRows).toBe(3);
  });

  it('makes a column nullable when only the first files have it', async () => {
    const src = await parquetLake({ 'a.parquet': `SELECT 1::INTEGER AS id, 2::INTEGER AS dropped`, 'b.parquet': `SELECT 2::INTEGER AS id` });
    const { manifest } = await refresh(src);
    const f = manifestArrowSchema(manifest!).fields.find((x) => x.name === 'dropped')!;
    expect(f.nullable).toBe(true);
    expect(manifest!.files.find((x) => x.path === 'b.parquet')!.details!['missingColumns']).toEqual(['dropped']);
  });
});

describe('widening by Iceberg\'s promotion rules', () => {
  it('int → bigint, float → double, decimal(10,2) → decimal(21,2), date → timestamp: the wider type, in any file order', async () => {
    const narrow = `SELECT 1::INTEGER AS i, 1.5::FLOAT AS f, 1.25::DECIMAL(10,2) AS d, DATE '2024-01-02' AS t, 1::SMALLINT AS s`;
    const wide = `SELECT 5000000000::BIGINT AS i, 2.5::DOUBLE AS f, 12345678901234567.25::DECIMAL(21,2) AS d, TIMESTAMP '2024-01-02 03:04:05' AS t, 7::BIGINT AS s`;
    for (const [first, second] of [[narrow, wide], [wide, narrow]]) {
      const { info, manifest } = await refresh(await parquetLake({ 'a.parquet': first!, 'b.parquet': second! }));
      expect(info.state, info.reason).toBe('RefreshCompleted');
      const schema = manifestArrowSchema(manifest!);
      const type = (n: string) => schema.fields.find((x) => x.name === n)!.type;
      expect(String(type('i'))).toBe('Int64');
      expect(String(type('f'))).toBe('Float64');
      expect(typeName(type('d'))).toBe('Decimal(21, 2)');
      expect(DataType.isTimestamp(type('t'))).toBe(true);
      expect(String(type('s'))).toBe('Int64');
      expect(manifest!.files.every((f) => f.details?.['missingColumns'] === undefined)).toBe(true);
    }
  });
});

describe('conflicts', () => {
  it('fails SCHEMA_MISMATCH naming both files and the column, types written as a person writes them', async () => {
    const src = await parquetLake({
      'a.parquet': `SELECT 1::INTEGER AS id, 1.5::DECIMAL(10,2) AS price`,
      'b.parquet': `SELECT 2::INTEGER AS id, 1.5::DECIMAL(21,1) AS price`,
    });
    const { info } = await refresh(src);
    expect(info.errorCode).toBe('SCHEMA_MISMATCH');
    expect(info.reason).toMatch(/column "price" is Decimal\(10, 2\) in a\.parquet but Decimal\(21, 1\) in b\.parquet/);
    expect(info.reason).not.toMatch(/Decimal\[/);
  });

  it('refuses string vs int and timestamp with time zone vs date', async () => {
    const strInt = await refresh(await parquetLake({ 'a.parquet': `SELECT 1::INTEGER AS id`, 'b.parquet': `SELECT 'x' AS id` }));
    expect(strInt.info.errorCode).toBe('SCHEMA_MISMATCH');
    expect(strInt.info.reason).toMatch(/column "id" is Int32 in a\.parquet but Utf8 in b\.parquet/);
    const tz = await refresh(await parquetLake({ 'a.parquet': `SELECT DATE '2024-01-01' AS t`, 'b.parquet': `SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t` }));
    expect(tz.info.errorCode).toBe('SCHEMA_MISMATCH');
    expect(tz.info.reason).toMatch(/Timestamp\(MICROSECOND, UTC\)/);
  });

  it('skips the later conflicting file under skip_invalid, keeping the others', async () => {
    const src = await parquetLake({ 'a.parquet': `SELECT 1::INTEGER AS id`, 'b.parquet': `SELECT 'x' AS id`, 'c.parquet': `SELECT 3::BIGINT AS id` });
    const { info, manifest } = await refresh(src, { skip_invalid: true });
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(manifest!.files.map((f) => f.path)).toEqual(['a.parquet', 'c.parquet']);
    expect(manifest!.skipped).toEqual([expect.objectContaining({ path: 'b.parquet', code: 'SCHEMA_MISMATCH', reason: expect.stringMatching(/"id" is Int32 in a\.parquet but Utf8 in b\.parquet/) })]);
    expect(columns(manifest!)).toEqual([['id', 'Int64', true]]);
  });
});

describe('with declared fields', () => {
  it('only mapped columns must agree (after promotion); unmapped ones may conflict; a mapped column missing from a file is nullable', async () => {
    const src = await parquetLake({
      'a.parquet': `SELECT 1::INTEGER AS id, 'x' AS note`,
      'b.parquet': `SELECT 2::BIGINT AS id, 5 AS note, 0.5::FLOAT AS score`,
    });
    const { info, manifest } = await refresh(src, {}, [{ name: 'pk', externalField: 'id' }, { name: 's', externalField: 'score' }]);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(columns(manifest!)).toEqual([['pk', 'Int64', true], ['s', 'Float32', true]]);
    expect(manifest!.files.map((f) => f.details?.['missingColumns'])).toEqual([['score'], undefined]);
    const conflict = await refresh(src, {}, [{ name: 'n', externalField: 'note' }]);
    expect(conflict.info.errorCode).toBe('SCHEMA_MISMATCH');
    expect(conflict.info.reason).toMatch(/column "note" is Utf8 in a\.parquet but Int32 in b\.parquet/);
  });
});

describe('vortex files', () => {
  it('unions columns across vortex files, widens i32 → i64, and makes columns some files lack nullable', async () => {
    const src = tempDir();
    writeFile(path.join(src, 'a.vortex'), writeVortexFile({
      dtype: { kind: 'struct', fields: [['id', { kind: 'primitive', ptype: PType.I32 }], ['code', { kind: 'utf8' }]] },
      layout: structOf(3, [flat(3), flat(3, 12, 'vortex.varbinview')]),
    }).bytes);
    writeFile(path.join(src, 'b.vortex'), writeVortexFile({
      dtype: { kind: 'struct', fields: [['id', { kind: 'primitive', ptype: PType.I64 }], ['label', { kind: 'utf8' }]] },
      layout: structOf(2, [flat(2), flat(2, 12, 'vortex.varbinview')]),
    }).bytes);
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'v' });
    // Both files declare every column non-nullable; only id is in both.
    expect(columns(m)).toEqual([['id', 'Int64', false], ['code', 'Utf8', true], ['label', 'Utf8', true]]);
    expect(m.files.map((f) => [f.path, f.details?.['missingColumns']])).toEqual([['a.vortex', ['label']], ['b.vortex', ['code']]]);
  });
});

describe('typeName', () => {
  it('prints types as a person writes them', () => {
    expect(typeName(new Decimal(1, 21, 128))).toBe('Decimal(21, 1)');
    expect(typeName(new Int32())).toBe('Int32');
    expect(String(new Field('x', new Decimal(1, 21, 128)).type)).toBe('Decimal[21e+1]'); // Arrow's own, which messages avoid
  });
});
