// Iceberg reads with many deletes: the live rows of a row group come as one batch (not one per run
// between deleted rows), with DuckDB's values, types and nulls; and a delete file that applies to many
// data files is read once per read call. DuckDB writes every data and delete file, our fixture writer
// the metadata.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { duckdbRowGroups, sqlString, withDuckDB } from '../fixtures/parquet/index.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { arrowRows, duckRows } from './helpers/canonical-rows.js';
import { writeEqualityTable } from './helpers/iceberg-equality-table.js';
import { tempDir } from './helpers/tmp.js';

const ROWS = 20_000;
/** Deleted: every 7th row from 3, and all of rows 8192..12287 (a whole row group of 4,096). */
const DELETED = `(i % 7 = 3 OR i BETWEEN 8192 AND 12287)`;
const COLUMNS = `i::BIGINT AS id, CASE WHEN i % 5 = 0 THEN NULL ELSE 'n' || i::VARCHAR END AS name,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i / 4.0 END::DOUBLE AS x, i % 2 = 0 AS flag,
  CASE WHEN i % 11 = 0 THEN NULL ELSE [i, i + 1, i + 2][1:(i % 4)] END AS tags,
  {'a': i::INTEGER, 'b': CASE WHEN i % 6 = 0 THEN NULL ELSE 's' || i::VARCHAR END} AS pair`;

const SCHEMA = {
  'schema-id': 0, type: 'struct', fields: [
    { id: 1, name: 'id', required: false, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'x', required: false, type: 'double' },
    { id: 4, name: 'flag', required: false, type: 'boolean' },
    { id: 5, name: 'tags', required: false, type: { type: 'list', 'element-id': 7, element: 'long', 'element-required': false } },
    { id: 6, name: 'pair', required: false, type: { type: 'struct', fields: [{ id: 8, name: 'a', required: false, type: 'int' }, { id: 9, name: 'b', required: false, type: 'string' }] } },
  ],
};

async function refreshed(dir: string): Promise<RefreshEngine> {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine;
}

async function readAll(engine: RefreshEngine): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of engine.readCollection({ collectionName: 't' })) out.push(b);
  return out;
}

/** Counts the opens of each file under `dir` while `fn` runs (every local read opens its file). */
async function countingOpens<T>(dir: string, fn: () => Promise<T>): Promise<{ result: T; opens: Map<string, number> }> {
  const opens = new Map<string, number>();
  const openSync = fs.openSync;
  fs.openSync = function (this: unknown, ...args: Parameters<typeof fs.openSync>) {
    const p = String(args[0]);
    if (p.startsWith(dir)) opens.set(path.relative(dir, p), (opens.get(path.relative(dir, p)) ?? 0) + 1);
    return openSync.apply(this, args);
  } as typeof fs.openSync;
  syncBuiltinESMExports();
  try {
    return { result: await fn(), opens };
  } finally {
    fs.openSync = openSync;
    syncBuiltinESMExports();
  }
}

afterEach(() => syncBuiltinESMExports());

describe('iceberg reads with many deletes', () => {
  it('many scattered deletes give one batch per row group, with DuckDB values, types and nulls', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'data'));
    const data = path.join(dir, 'data', 'a.parquet');
    const del = path.join(dir, 'data', 'del.parquet');
    await withDuckDB(async (con) => {
      await con.run(`COPY (SELECT ${COLUMNS} FROM range(${ROWS}) t(i) ORDER BY i) TO ${sqlString(data)} (FORMAT parquet, ROW_GROUP_SIZE 4096)`);
      await con.run(`COPY (SELECT 's3://warehouse/db/t/data/a.parquet' AS file_path, i::BIGINT AS pos FROM range(${ROWS}) t(i) WHERE ${DELETED} ORDER BY i) TO ${sqlString(del)} (FORMAT parquet)`);
    });
    const deletes = (await duckRows(`SELECT count(*)::INTEGER AS n FROM range(${ROWS}) t(i) WHERE ${DELETED}`))[0]!['n'] as number;
    writeFixtureTable(dir, {
      formatVersion: 2, writeData: false, schemas: [SCHEMA],
      snapshots: [{ id: 1n, timestampMs: 1000, sequenceNumber: 1n, manifests: [
        [{ path: 'data/a.parquet', records: ROWS, size: fs.statSync(data).size }],
        [{ path: 'data/del.parquet', records: deletes, size: fs.statSync(del).size, content: 1 }],
      ] }],
    });
    const groups = await duckdbRowGroups(data);
    expect(groups.length).toBeGreaterThan(3);
    const batches = await readAll(await refreshed(dir));
    // one batch per row group that keeps a row, holding all its live rows: the fully deleted one gives none
    const dead = (i: number): boolean => i % 7 === 3 || (i >= 8192 && i <= 12287);
    let at = 0;
    const liveCounts = groups.map((g) => {
      let n = 0;
      for (let i = at; i < at + g.rows; i++) if (!dead(i)) n++;
      at += g.rows;
      return n;
    }).filter((n) => n > 0);
    expect(liveCounts.length).toBe(groups.length - 1);
    expect(batches.map((b) => b.numRows)).toEqual(liveCounts);
    const expected = await duckRows(`SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(data)}, file_row_number = true) WHERE NOT ${DELETED.replaceAll('i', 'file_row_number')} ORDER BY file_row_number`);
    expect(expected.length).toBe(ROWS - deletes);
    expect(arrowRows(batches)).toEqual(expected);
  });

  it('a position delete file naming three data files is read once per readCollection', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'data'));
    const names = ['a', 'b', 'c'];
    await withDuckDB(async (con) => {
      for (const [k, n] of names.entries()) {
        await con.run(`COPY (SELECT (i + ${k * 1000})::BIGINT AS id FROM range(1000) t(i) ORDER BY i) TO ${sqlString(path.join(dir, 'data', `${n}.parquet`))} (FORMAT parquet)`);
      }
      const rows = names.flatMap((n) => [`('s3://warehouse/db/t/data/${n}.parquet', 10)`, `('s3://warehouse/db/t/data/${n}.parquet', 500)`]);
      await con.run(`COPY (SELECT file_path, pos::BIGINT AS pos FROM (VALUES ${rows.join(', ')}) v(file_path, pos)) TO ${sqlString(path.join(dir, 'data', 'del.parquet'))} (FORMAT parquet)`);
    });
    const size = (f: string): number => fs.statSync(path.join(dir, 'data', f)).size;
    writeFixtureTable(dir, {
      formatVersion: 2, writeData: false,
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [{ id: 1, name: 'id', required: false, type: 'long' }] }],
      snapshots: [{ id: 1n, timestampMs: 1000, sequenceNumber: 1n, manifests: [
        names.map((n) => ({ path: `data/${n}.parquet`, records: 1000, size: size(`${n}.parquet`) })),
        [{ path: 'data/del.parquet', records: 6, size: size('del.parquet'), content: 1 }],
      ] }],
    });
    const engine = await refreshed(dir);
    const { result, opens } = await countingOpens(dir, () => readAll(engine));
    const ids = result.flatMap((b) => [...b.getChild('id')!].map(Number));
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i).filter((i) => i % 1000 !== 10 && i % 1000 !== 500));
    expect(opens.get('data/del.parquet')).toBe(1);
    // each segment read alone loads it for itself
    const manifest = await engine.getManifest({ collectionName: 't' });
    for (const s of manifest.segments) for await (const b of engine.readSegment({ collectionName: 't', segmentId: s.id })) expect(b.numRows).toBe(998);
  });

  it('an equality delete file applying to three data files is read once per readCollection', async () => {
    const dir = tempDir();
    const data = ['a', 'b', 'c'].map((n, k) => ({ path: `data/${n}.parquet`, sql: `SELECT (i + ${k * 100})::BIGINT AS id, i::INTEGER AS v FROM range(100) t(i)`, fieldIds: { id: 1, v: 2 }, seq: 1n }));
    await writeEqualityTable(dir, {
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [{ id: 1, name: 'id', required: false, type: 'long' }, { id: 2, name: 'v', required: false, type: 'int' }] }],
      files: [...data, { path: 'data/eq.parquet', sql: 'SELECT v::INTEGER AS v FROM (VALUES (3), (50), (99)) t(v)', fieldIds: { v: 2 }, seq: 2n, equalityIds: [2] }],
    });
    const engine = await refreshed(dir);
    const { result, opens } = await countingOpens(dir, () => readAll(engine));
    const ids = result.flatMap((b) => [...b.getChild('id')!].map(Number));
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => ![3, 50, 99].includes(i % 100)));
    expect(opens.get('data/eq.parquet')).toBe(1);
    expect(result.length).toBe(3); // one batch per data file, not one per run between deleted rows
  });
});
