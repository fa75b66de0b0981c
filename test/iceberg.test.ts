import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakemapError, type TableEntry } from '../src/scanner.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { writeFixtureTable, type FixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable, schemaV0, SNAP1, SNAP2, SNAP3 } from '../fixtures/iceberg/sample-tables.js';
import { snapshotLocalTable } from './helpers/scan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function table(t: FixtureTable): string {
  const dir = path.join(tmp, `t${n++}`);
  fs.mkdirSync(dir);
  writeFixtureTable(dir, t);
  return dir;
}
const byPath = (entries: TableEntry[]) => new Map(entries.map((e) => [e.path, e]));
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(LakemapError);
    return (e as LakemapError).code;
  }
}

describe('iceberg-table: snapshots and time travel', () => {
  const dir = table(historyTable());

  it('maps the current snapshot: live data files only, ids as decimal strings', async () => {
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.tableVersion).toBe(SNAP3.toString());
    expect(s.entries.map((e) => e.path).sort()).toEqual(['data/day=19000/a.parquet', 'data/day=19001/b.parquet', 'data/day=19001/d.parquet']);
    expect(s.entries.map((e) => e.rows)).toEqual([10, 20, 7]);
    expect(s.entries[0]!.units).toEqual([{ rows: 10, byteSize: 1000 }]);
    expect(s.details).toMatchObject({ snapshotId: SNAP3.toString(), formatVersion: 2, manifests: 2, dataFiles: 3, deleteFiles: { position: 2, equality: 1, deletionVectors: 1 } });
  });

  it('selects a snapshot by snapshot_id, with that snapshot\'s schema', async () => {
    const s = await snapshotLocalTable(icebergScanner, dir, { snapshot_id: SNAP1.toString() });
    expect(s.tableVersion).toBe(SNAP1.toString());
    expect(s.entries.map((e) => e.path)).toEqual(['data/day=19000/a.parquet', 'data/day=19001/b.parquet']);
    expect(s.entries.every((e) => e.liveRows === undefined)).toBe(true);
    expect(s.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'day', 'amount', 'ts']);
  });

  it('selects the last snapshot at or before as_of_timestamp', async () => {
    expect((await snapshotLocalTable(icebergScanner, dir, { as_of_timestamp: 2999 })).tableVersion).toBe(SNAP2.toString());
    expect((await snapshotLocalTable(icebergScanner, dir, { as_of_timestamp: 2000 })).tableVersion).toBe(SNAP2.toString());
    expect((await snapshotLocalTable(icebergScanner, dir, { as_of_timestamp: '1000' })).tableVersion).toBe(SNAP1.toString());
    expect(await codeOf(snapshotLocalTable(icebergScanner, dir, { as_of_timestamp: 999 }))).toBe('VERSION_NOT_FOUND');
  });

  it('refuses a snapshot id that does not exist, and bad spec values', async () => {
    expect(await codeOf(snapshotLocalTable(icebergScanner, dir, { snapshot_id: '123' }))).toBe('VERSION_NOT_FOUND');
    for (const bad of [{ snapshot_id: 1.5 }, { snapshot_id: 'abc' }, { as_of_timestamp: 'yesterday-ish' }, { as_of_timestamp: -1 },
      { metadata_location: 7 }, { snapshot_id: '1', as_of_timestamp: 5 }]) {
      expect(() => icebergScanner.validateSpec!({ format: 'iceberg-table', ...bad })).toThrow(/iceberg-table/);
      expect(await codeOf(snapshotLocalTable(icebergScanner, dir, bad))).toBe('INVALID_SPEC');
    }
  });

  it('keeps the fingerprint of an unchanged data file and changes it when a delete is attached', async () => {
    const s1 = byPath((await snapshotLocalTable(icebergScanner, dir, { snapshot_id: SNAP1.toString() })).entries);
    const s2 = byPath((await snapshotLocalTable(icebergScanner, dir, { snapshot_id: SNAP2.toString() })).entries);
    const s3 = byPath((await snapshotLocalTable(icebergScanner, dir)).entries);
    const b = 'data/day=19001/b.parquet';
    const a = 'data/day=19000/a.parquet';
    expect(s2.get(b)!.fingerprint).toBe(s1.get(b)!.fingerprint); // untouched between 1 and 2
    expect(s2.get(a)!.fingerprint).not.toBe(s1.get(a)!.fingerprint); // position delete added
    expect(s3.get(b)!.fingerprint).not.toBe(s2.get(b)!.fingerprint); // deletion vector added
    expect(s3.get(a)!.fingerprint).not.toBe(s2.get(a)!.fingerprint); // equality delete added
  });
});

describe('iceberg-table: deletes', () => {
  const dir = table(historyTable());

  it('attaches deletes by partition and sequence number, with exact live rows where metadata gives them', async () => {
    const e = byPath((await snapshotLocalTable(icebergScanner, dir)).entries);
    const a = e.get('data/day=19000/a.parquet')!;
    const b = e.get('data/day=19001/b.parquet')!;
    const d = e.get('data/day=19001/d.parquet')!;
    // a: its referenced position delete (2 rows) + the equality delete of its partition: an upper bound.
    expect((a.details!['deletes'] as { kind: string }[]).map((x) => x.kind).sort()).toEqual(['equality', 'position']);
    expect([a.liveRows, a.liveRowsExact]).toEqual([8, false]);
    // b: the deletion vector supersedes the shared position delete: exact cardinality.
    expect(b.details!['deletes']).toEqual([{ kind: 'deletion-vector', path: 'data/dv.puffin', records: 3, sequenceNumber: 3, contentOffset: 4, contentSize: 40 }]);
    expect([b.liveRows, b.liveRowsExact]).toEqual([17, true]);
    // d (sequence 3) gets the shared position delete (sequence 3, ≤) but no equality delete of another partition.
    expect(d.details!['deletes']).toEqual([{ kind: 'position', path: 'data/day=19001/pos-shared.parquet', records: 4, sequenceNumber: 3, pinnedBy: 'partition' }]);
    expect([d.liveRows, d.liveRowsExact]).toEqual([7, false]);
  });

  it('gives exact live rows for a position delete file referencing one data file', async () => {
    const s2 = byPath((await snapshotLocalTable(icebergScanner, dir, { snapshot_id: SNAP2.toString() })).entries);
    const a = s2.get('data/day=19000/a.parquet')!;
    expect([a.rows, a.liveRows, a.liveRowsExact]).toEqual([10, 8, true]);
    expect(s2.get('data/day=19000/c.parquet')!.liveRows).toBeUndefined(); // sequence 2 > nothing; same partition but referenced elsewhere
  });
});

describe('iceberg-table: schema, partitions and stats', () => {
  const dir = table(historyTable());

  it('maps the Iceberg schema to Arrow with field ids, renames and added columns', async () => {
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.schema.fields.map((f) => f.name)).toEqual(['id', 'full_name', 'day', 'amount', 'ts', 'tags', 'uid']);
    expect(s.schema.fields.map((f) => f.metadata.get('PARQUET:field_id'))).toEqual(['1', '2', '3', '4', '5', '6', '8']);
    expect(s.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Utf8', 'Date32<DAY>', 'Decimal[10e+2]', 'Timestamp<MICROSECOND, UTC>', 'List<Utf8>', 'FixedSizeBinary[16]']);
    expect(s.schema.fields[0]!.nullable).toBe(false);
    expect(s.schema.fields[5]!.type.children[0]!.metadata.get('PARQUET:field_id')).toBe('7');
    expect(s.schema.fields[6]!.metadata.get('iceberg:initial-default')).toBe('"00000000-0000-0000-0000-000000000000"');
  });

  it('decodes partitions and column bounds to typed values under the selected schema\'s names', async () => {
    const a = byPath((await snapshotLocalTable(icebergScanner, dir)).entries).get('data/day=19000/a.parquet')!;
    expect(a.details!['partition']).toEqual({ day: '2022-01-08' });
    expect(a.details!['columnStats']).toEqual({
      id: { nulls: 0, min: 1, max: 10 },
      full_name: { nulls: 3, min: 'alice', max: 'zed' },
      day: { min: '2022-01-08', max: '2022-01-08' },
      amount: { min: '2.56', max: '-2.00' },
      ts: { min: '2023-11-14T22:13:20.000000Z', max: '2023-11-14T22:13:20.123456Z' },
    });
    const old = byPath((await snapshotLocalTable(icebergScanner, dir, { snapshot_id: SNAP1.toString() })).entries).get('data/day=19000/a.parquet')!;
    expect(Object.keys(old.details!['columnStats'] as object)).toContain('name');
    expect(JSON.parse(JSON.stringify(a))).toEqual(a); // JSON-safe
  });

  it('types a partition value by its transform: day() of a timestamp is a date, month() and bucket[N] are ints', async () => {
    const base = historyTable();
    const field = base.partitionFields![0]!;
    for (const [sourceId, transform, value] of [
      [5, 'day', '2022-01-08'],
      [5, 'month', 19000],
      [1, 'bucket[16]', 19000],
    ] as const) {
      const t = table({ ...base, partitionFields: [{ ...field, sourceId, transform }] });
      const a = byPath((await snapshotLocalTable(icebergScanner, t)).entries).get('data/day=19000/a.parquet')!;
      expect(a.details!['partition'], transform).toEqual({ day: value });
    }
  });
});

describe('iceberg-table: every primitive type, nested columns, defaults', () => {
  const primitives = ['boolean', 'int', 'long', 'float', 'double', 'date', 'time', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns',
    'string', 'binary', 'uuid', 'unknown', 'variant', 'decimal(38, 0)', 'fixed[3]', 'geometry(srid:4326)'];

  it('maps each Iceberg primitive to its Arrow type', async () => {
    const fields = primitives.map((type, i) => ({ id: i + 1, name: `c${i}`, required: false, type }));
    const dir = table({ schemas: [{ 'schema-id': 0, type: 'struct', fields }], snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: [[{ path: 'data/x.parquet', records: 3 }]] }] });
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(Object.fromEntries(s.schema.fields.map((f, i) => [primitives[i], String(f.type)]))).toEqual({
      boolean: 'Bool', int: 'Int32', long: 'Int64', float: 'Float32', double: 'Float64', date: 'Date32<DAY>', time: 'Time64<MICROSECOND>',
      timestamp: 'Timestamp<MICROSECOND>', timestamptz: 'Timestamp<MICROSECOND, UTC>', timestamp_ns: 'Timestamp<NANOSECOND>', timestamptz_ns: 'Timestamp<NANOSECOND, UTC>',
      string: 'Utf8', binary: 'Binary', uuid: 'FixedSizeBinary[16]', unknown: 'Null', variant: 'Binary', 'decimal(38, 0)': 'Decimal[38e0]', 'fixed[3]': 'FixedSizeBinary[3]',
      'geometry(srid:4326)': 'Binary',
    });
  });

  it('names the stats of nested columns by their dotted path, for structs, lists and maps', async () => {
    const le32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
    const fields = [
      { id: 1, name: 's', required: false, type: { type: 'struct', fields: [{ id: 2, name: 'a', required: false, type: 'int' }, { id: 3, name: 'inner', required: false, type: { type: 'struct', fields: [{ id: 4, name: 'b', required: false, type: 'string' }] } }] } },
      { id: 5, name: 'xs', required: false, type: { type: 'list', 'element-id': 6, element: 'int', 'element-required': false } },
      { id: 7, name: 'm', required: false, type: { type: 'map', 'key-id': 8, key: 'string', 'value-id': 9, value: 'int', 'value-required': false } },
    ];
    const dir = table({ schemas: [{ 'schema-id': 0, type: 'struct', fields }], snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: [[{
      path: 'data/x.parquet', records: 3, nullCounts: { 2: 1, 4: 0, 6: 2, 8: 0, 9: 1 },
      lowerBounds: { 2: le32(-3), 4: Buffer.from('aa'), 6: le32(1), 8: Buffer.from('k'), 9: le32(7) },
      upperBounds: { 2: le32(40), 4: Buffer.from('zz'), 6: le32(9), 8: Buffer.from('q'), 9: le32(8) },
    }]] }] });
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries[0]!.details!['columnStats']).toEqual({
      's.a': { nulls: 1, min: -3, max: 40 }, 's.inner.b': { nulls: 0, min: 'aa', max: 'zz' },
      'xs.element': { nulls: 2, min: 1, max: 9 }, 'm.key': { nulls: 0, min: 'k', max: 'q' }, 'm.value': { nulls: 1, min: 7, max: 8 },
    });
  });

  it('keeps initial and write defaults as JSON text, longs beyond 2^53 as exact decimal strings', async () => {
    const fields = [
      { id: 1, name: 'big', required: false, type: 'long', 'initial-default': 9_007_199_254_740_993n, 'write-default': 5 },
      { id: 2, name: 'tags', required: false, type: 'string', 'initial-default': 'x' },
    ];
    const dir = table({ schemas: [{ 'schema-id': 0, type: 'struct', fields }], snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: [[{ path: 'data/x.parquet', records: 3 }]] }] });
    const [big, tags] = (await snapshotLocalTable(icebergScanner, dir)).schema.fields;
    expect([big!.metadata.get('iceberg:initial-default'), big!.metadata.get('iceberg:write-default'), tags!.metadata.get('iceberg:initial-default')]).toEqual(['"9007199254740993"', '5', '"x"']); // beyond 2^53 as a JSON string, exact
  });
});

describe('iceberg-table: types it does not know', () => {
  it('refuses an unknown, null or missing column type with UNSUPPORTED naming the column and the type', async () => {
    for (const [type, text] of [['varchar', '"varchar"'], [{ type: 'variant-x' }, '{"type":"variant-x"}'], [null, 'null'], [undefined, 'undefined'], [{ type: 'list', element: null }, 'null'], [{ type: 'struct' }, '{"type":"struct"}']] as const) {
      const col = { id: 9, name: 'odd', required: false, ...(type === undefined ? {} : { type }) };
      const dir = table({ schemas: [{ ...schemaV0, fields: [...schemaV0.fields, col] }], snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: [[{ path: 'data/x.parquet', records: 3 }]] }] });
      const e = await snapshotLocalTable(icebergScanner, dir).then(() => undefined, (x: unknown) => x);
      expect(e, text).toBeInstanceOf(LakemapError);
      expect((e as LakemapError).code, text).toBe('UNSUPPORTED');
      expect((e as Error).message, text).toContain(`odd${text === 'null' && type !== null ? '.element' : ''}: Iceberg type ${text} is not known`);
    }
  });
});

describe('iceberg-table: finding the metadata', () => {
  const simple = (extra: Partial<FixtureTable> = {}): FixtureTable => ({
    schemas: [schemaV0],
    snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: [[{ path: 'data/x.parquet', records: 3 }]] }],
    ...extra,
  });

  for (const [label, t] of [
    ['a numeric version hint', simple()],
    ['a file-name version hint', simple({ versionHint: 'name' })],
    ['no version hint (highest version wins)', simple({ versionHint: 'none' })],
    ['gzip metadata', simple({ gzip: true, versionHint: 'none' })],
    ['the snappy codec', simple({ codec: 'snappy' })],
    ['the null codec', simple({ codec: 'null' })],
  ] as const) {
    it(`reads a table with ${label}`, async () => {
      const s = await snapshotLocalTable(icebergScanner, table(t));
      expect(s.tableVersion).toBe('5');
      expect(s.entries.map((e) => [e.path, e.rows])).toEqual([['data/x.parquet', 3]]);
    });
  }

  it('uses metadata_location from the spec', async () => {
    const dir = table(simple());
    const s = await snapshotLocalTable(icebergScanner, dir, { metadata_location: 'metadata/v1.metadata.json' });
    expect(s.tableVersion).toBe(''); // v1 of the fixture has no snapshot
    expect(await codeOf(snapshotLocalTable(icebergScanner, dir, { metadata_location: 'metadata/v9.metadata.json' }))).toBe('NOT_FOUND');
  });

  it('maps a table with no snapshot to an empty collection with its schema', async () => {
    const s = await snapshotLocalTable(icebergScanner, table({ schemas: [schemaV0], snapshots: [] }));
    expect(s.tableVersion).toBe('');
    expect(s.entries).toEqual([]);
    expect(s.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'day', 'amount', 'ts']);
  });

  it('maps a table whose files were moved from where they were written', async () => {
    const s = await snapshotLocalTable(icebergScanner, table(simple({ location: 'file:/home/writer/warehouse/db/t' })));
    expect(s.entries.map((e) => e.path)).toEqual(['data/x.parquet']);
    expect(s.details!['location']).toBe('file:/home/writer/warehouse/db/t');
  });

  it('maps a table whose metadata names another location than its paths (learnt from the manifest list)', async () => {
    const dir = table(simple({ location: 'gs://bucket/t' }));
    const meta = path.join(dir, 'metadata/v2.metadata.json');
    fs.writeFileSync(meta, fs.readFileSync(meta, 'utf8').replace('"location": "gs://bucket/t"', '"location": "gs://elsewhere/t2"'));
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries.map((e) => e.path)).toEqual(['data/x.parquet']);
  });

  it('fails with a reason naming a data file outside the table location', async () => {
    const t = simple();
    t.snapshots[0]!.manifests[0]!.push({ path: '../other-table/data/y.parquet', records: 1, size: 5 });
    const dir = table({ ...t, writeData: false });
    const err = await snapshotLocalTable(icebergScanner, dir).catch((e: unknown) => e as LakemapError);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).message).toContain('other-table/data/y.parquet');
  });
});
