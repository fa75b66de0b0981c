// Equality deletes on small tables built for the edge cases (test/helpers/iceberg-equality-table.ts):
// NULL keys, multi-column keys, extra and reordered delete columns, the sequence-number boundary,
// partition-scoped and global deletes, renamed and added columns, typed keys, refusals and the budget.
// Expected rows are written out by hand and also checked against the DuckDB oracle (anti-join).
import type { RecordBatch } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, manifestArrowSchema, type Manifest } from '../src/index.js';
import { arrowRows, duckCanon, type Canon } from './helpers/canonical-rows.js';
import { writeEqualityTable, type EqualityTable } from './helpers/iceberg-equality-table.js';
import { icebergOracle } from './helpers/iceberg-oracle.js';
import { tempDir } from './helpers/tmp.js';

const long = (id: number, name: string, required = false) => ({ id, name, required, type: 'long' });
const str = (id: number, name: string) => ({ id, name, required: false, type: 'string' });
const int = (id: number, name: string) => ({ id, name, required: false, type: 'int' });

/** Maps the table, reads every segment, and checks the rows against DuckDB's anti-join. */
async function readTable(table: EqualityTable, options: { columns?: string[]; readBudgetBytes?: number } = {}): Promise<{ rows: Canon[][]; manifest: Manifest }> {
  const dir = tempDir();
  const metadataFile = await writeEqualityTable(dir, table);
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  const manifest = await engine.getManifest({ collectionName: 't' });
  const batches: RecordBatch[] = [];
  for await (const b of engine.readCollection({ collectionName: 't', ...options })) batches.push(b);
  const rows = arrowRows(batches).map((r) => Object.values(r));
  // batches carry the collection's schema (its metadata too), whichever way their columns were found
  for (const b of batches) expect(b.schema.metadata).toEqual(manifestArrowSchema(manifest).metadata);
  if (!options.columns) {
    const fieldIds = manifestArrowSchema(manifest).fields.map((f) => Number(f.metadata.get('PARQUET:field_id')));
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    try {
      const oracle = await icebergOracle(con, dir, metadataFile, '1', [dir], { fieldIds });
      const want: Canon[][] = [];
      for (const f of manifest.files) {
        const sql = oracle.find((o) => o.path === f.path)!.liveRowsSql!;
        want.push(...(await con.runAndReadAll(sql)).getRows().map((r) => r.map((v) => duckCanon(v))));
      }
      expect(rows, 'DuckDB anti-join').toEqual(want);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  }
  return { rows, manifest };
}

const ids = (rows: Canon[][]) => rows.map((r) => Number(r[0])).sort((a, b) => a - b);

describe('iceberg equality deletes', () => {
  it('match NULL to NULL, compare only the equality columns (extra ones, any order), and spare data files of the same or a later sequence number', async () => {
    const { rows, manifest } = await readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [long(1, 'id'), str(2, 'name'), int(3, 'grp')] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1, name: 2, grp: 3 },
          sql: `SELECT id::BIGINT AS id, name::VARCHAR AS name, grp::INTEGER AS grp FROM (VALUES (1, 'a', 1), (2, 'b', 1), (3, NULL, NULL), (4, 'x', 7), (5, 'c', NULL), (6, 'b', 2), (7, 'd', 7), (8, 'e', NULL), (21, 'f', 3)) v(id, name, grp)` },
        // deletes name = 'b' and name IS NULL; its extra grp column (listed first) must not take part
        { path: 'data/del-name.parquet', seq: 2n, equalityIds: [2], fieldIds: { grp: 3, name: 2 },
          sql: `SELECT 99::INTEGER AS grp, 'b'::VARCHAR AS name UNION ALL SELECT 98, NULL` },
        // (id, grp): (5, NULL) and (1, 1) delete; (7, 1), (8, 0) and (2, 13) do not (the last one spelled "213" as 21's
        // (21, 3) is); columns in another order, plus an extra one
        { path: 'data/del-pair.parquet', seq: 2n, equalityIds: [1, 3], fieldIds: { grp: 3, note: 4, id: 1 },
          sql: `SELECT grp::INTEGER AS grp, 'junk' AS note, id::BIGINT AS id FROM (VALUES (NULL, 5), (1, 1), (1, 7), (0, 8), (13, 2)) v(grp, id)` },
        // same sequence number as the deletes: kept
        { path: 'data/b.parquet', seq: 2n, fieldIds: { id: 1, name: 2, grp: 3 },
          sql: `SELECT id::BIGINT AS id, name::VARCHAR AS name, grp::INTEGER AS grp FROM (VALUES (9, 'b', 1), (10, NULL, NULL), (11, 'z', NULL)) v(id, name, grp)` },
        // later: kept
        { path: 'data/c.parquet', seq: 3n, fieldIds: { id: 1, name: 2, grp: 3 },
          sql: `SELECT 12::BIGINT AS id, 'b'::VARCHAR AS name, NULL::INTEGER AS grp` },
      ],
    });
    expect(ids(rows)).toEqual([4, 7, 8, 9, 10, 11, 12, 21]);
    // the scanner cannot count equality deletes from metadata: the data file's live rows are an upper bound
    const a = manifest.files.find((f) => f.path === 'data/a.parquet')!;
    expect([a.liveRows, a.liveRowsExact]).toEqual([9, false]);
    expect(manifest.files.find((f) => f.path === 'data/b.parquet')!.liveRowsExact).not.toBe(false);
  });

  it('apply a partition-scoped delete to its partition only, and a delete of an unpartitioned spec to every partition', async () => {
    const data = (part: number) => ({
      path: `data/part=${part}/d.parquet`, seq: 1n, partition: { part }, fieldIds: { part: 1, key: 2 },
      sql: `SELECT ${part}::INTEGER AS part, key::BIGINT AS key FROM (VALUES (100), (200), (888)) v(key)`,
    });
    const { rows } = await readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [int(1, 'part'), long(2, 'key')] }],
      partitionFields: [{ name: 'part', fieldId: 1000, avroType: ['null', 'int'], sourceId: 1, transform: 'identity' }],
      specs: [{ specId: 1, fields: [] }],
      files: [
        data(0),
        data(1),
        { path: 'data/part=0/eq.parquet', seq: 2n, partition: { part: 0 }, equalityIds: [2], fieldIds: { key: 2 }, sql: 'SELECT 100::BIGINT AS key' },
        { path: 'data/global-eq.parquet', seq: 2n, spec: 1, equalityIds: [2], fieldIds: { key: 2 }, sql: 'SELECT 888::BIGINT AS key' },
      ],
    });
    expect(rows.map((r) => r.map(Number)).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)).toEqual([[0, 200], [1, 100], [1, 200]]);
  });

  it('match columns by field id across a rename, and take a column added later as NULL in older files', async () => {
    const { rows } = await readTable({
      schemas: [
        { 'schema-id': 0, type: 'struct', fields: [long(1, 'id'), str(2, 'name')] },
        { 'schema-id': 1, type: 'struct', fields: [long(1, 'id'), str(2, 'label'), str(3, 'note')] },
      ],
      files: [
        { path: 'data/old.parquet', seq: 1n, fieldIds: { id: 1, name: 2 },
          sql: `SELECT id::BIGINT AS id, name::VARCHAR AS name FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, NULL)) v(id, name)` },
        { path: 'data/del-label.parquet', seq: 2n, equalityIds: [2], fieldIds: { label: 2 }, sql: `SELECT 'b'::VARCHAR AS label` },
        // note (added after old.parquet was written) is NULL there: (3, NULL) deletes id 3, (4, 'x') nothing
        { path: 'data/del-note.parquet', seq: 2n, equalityIds: [1, 3], fieldIds: { id: 1, note: 3 },
          sql: `SELECT id::BIGINT AS id, note::VARCHAR AS note FROM (VALUES (3, NULL), (4, 'x')) v(id, note)` },
      ],
    });
    expect(rows).toEqual([['1', 'a', null], ['4', null, null]]);
  });

  it('compare decimals (also widened), dates, times, timestamps, uuids, binary and booleans by value', async () => {
    // negative decimals, dates and timestamps before 1970 too
    const cols = `i::BIGINT AS id, ((i - 3) * 1.25)::DECIMAL(9,2) AS d, (DATE '1969-12-30' + i::INTEGER) AS dt, (TIMESTAMP '1969-12-31 23:59:59.999997' + to_microseconds(i)) AS ts,
      ('00000000-0000-0000-0000-00000000000' || i::VARCHAR)::UUID AS u, ('\\x0' || i::VARCHAR)::BLOB AS b, i % 2 = 0 AS f, (TIME '12:00:00' + to_microseconds(i)) AS tm`;
    const fieldIds = { id: 1, d: 2, dt: 3, ts: 4, u: 5, b: 6, f: 7, tm: 8 };
    const keys = { d: 2, dt: 3, ts: 4, u: 5, b: 6, f: 7, tm: 8 };
    // row 2 exactly; row 3 with one column changed in each delete row (none of them deletes it)
    const near = ['d + 0.01', 'dt + 1', 'ts + INTERVAL 1 MICROSECOND', `'00000000-0000-0000-0000-000000000009'::UUID`, `'\\x09'::BLOB`, 'NOT f', 'tm + INTERVAL 1 MICROSECOND'];
    const names = Object.keys(keys);
    const variants = near.map((change, k) => `SELECT ${names.map((n, j) => (j === k ? `${change} AS ${n}` : n)).join(', ')} FROM base WHERE id = 3`);
    const { rows } = await readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [
        long(1, 'id'), { id: 2, name: 'd', required: false, type: 'decimal(9,2)' }, { id: 3, name: 'dt', required: false, type: 'date' },
        { id: 4, name: 'ts', required: false, type: 'timestamp' }, { id: 5, name: 'u', required: false, type: 'uuid' },
        { id: 6, name: 'b', required: false, type: 'binary' }, { id: 7, name: 'f', required: false, type: 'boolean' },
        { id: 8, name: 'tm', required: false, type: 'time' },
      ] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds, sql: `SELECT ${cols} FROM range(1, 7) t(i)` },
        // d written as DECIMAL(18,2) (precision widened, an INT64 column), the data file's is INT32
        { path: 'data/del.parquet', seq: 2n, equalityIds: Object.values(keys), fieldIds: keys,
          sql: `WITH base AS (SELECT ${cols} FROM range(1, 7) t(i)) SELECT d::DECIMAL(18,2) AS d, dt, ts, u, b, f, tm FROM (SELECT ${names.join(', ')} FROM base WHERE id = 2 UNION ALL ${variants.join(' UNION ALL ')})` },
      ],
    });
    expect(ids(rows)).toEqual([1, 3, 4, 5, 6]);
  });

  it('refuse a float equality column (the spec allows none), naming the column and the delete file', async () => {
    const read = readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [long(1, 'id'), { id: 2, name: 'x', required: false, type: 'double' }] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1, x: 2 }, sql: `SELECT 1::BIGINT AS id, 'NaN'::DOUBLE AS x` },
        { path: 'data/del.parquet', seq: 2n, equalityIds: [2], fieldIds: { x: 2 }, sql: `SELECT 'NaN'::DOUBLE AS x` },
      ],
    });
    const err = await read.then(() => undefined, (e: unknown) => e);
    expect(LakemapError.is(err, 'UNSUPPORTED'), String(err)).toBe(true);
    expect((err as LakemapError).path).toBe('data/del.parquet');
    expect((err as LakemapError).message).toMatch(/"x" \(field id 2\).*Float64.*float or double/);
  });

  it('refuse what a missing field stands for when NULL may be wrong: an initial default, a partition value, an id-less column', async () => {
    const withDefault = readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [long(1, 'id'), { id: 2, name: 'tag', required: false, type: 'string', 'initial-default': 'x' }] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1 }, sql: 'SELECT 1::BIGINT AS id' },
        { path: 'data/del.parquet', seq: 2n, equalityIds: [2], fieldIds: { tag: 2 }, sql: `SELECT 'x' AS tag` },
      ],
    }, { columns: ['id'] });
    await expect(withDefault).rejects.toMatchObject({ code: 'UNSUPPORTED', path: 'data/a.parquet', message: expect.stringMatching(/lacks equality field "tag" \(id 2\), and its initial default/) });
    const partitioned = readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [int(1, 'part'), long(2, 'key')] }],
      partitionFields: [{ name: 'part', fieldId: 1000, avroType: ['null', 'int'], sourceId: 1, transform: 'identity' }],
      files: [{ path: 'data/part=3/a.parquet', seq: 1n, partition: { part: 3 }, fieldIds: { key: 2 }, sql: 'SELECT 1::BIGINT AS key' }],
    });
    await expect(partitioned).rejects.toMatchObject({ code: 'FIELD_NOT_FOUND', message: expect.stringMatching(/"part".*partitioned/) });
    // a column without a field id beside ones with ids may be the field: not read as NULL
    const partialIds = readTable({
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [long(1, 'id'), str(2, 'name')] }],
      files: [{ path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1 }, sql: `SELECT 1::BIGINT AS id, 'a' AS name` }],
    });
    await expect(partialIds).rejects.toMatchObject({ code: 'FIELD_NOT_FOUND', message: expect.stringMatching(/"name".*without a field id \("name"\)/) });
  });

  it('count the delete keys against the read budget: refused past it, naming the delete file; read within it', async () => {
    const table: EqualityTable = {
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [long(1, 'id')] }],
      files: [
        { path: 'data/a.parquet', seq: 1n, fieldIds: { id: 1 }, sql: 'SELECT (i * 1000)::BIGINT AS id FROM range(100) t(i)' },
        { path: 'data/del.parquet', seq: 2n, equalityIds: [1], fieldIds: { id: 1 }, sql: 'SELECT i::BIGINT AS id FROM range(50000) t(i)' },
      ],
    };
    // 50,000 keys of ~72 bytes each: about 3.6 MB, over a 1 MiB budget that every column chunk fits
    const err = await readTable(table, { readBudgetBytes: 1 << 20 }).then(() => undefined, (e: unknown) => e);
    expect(LakemapError.is(err, 'UNSUPPORTED'), String(err)).toBe(true);
    expect((err as LakemapError).path).toBe('data/del.parquet');
    expect((err as LakemapError).message).toMatch(/equality delete keys of data\/a\.parquet need more than the 1048576-byte read budget/);
    const { rows } = await readTable(table, { readBudgetBytes: 8 << 20 });
    expect(ids(rows)).toEqual(Array.from({ length: 50 }, (_, i) => (i + 50) * 1000));
  });
});
