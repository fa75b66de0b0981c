// The parquet scanner on files written by DuckDB: rows, row groups and byte ranges against DuckDB's
// own parquet_metadata(), the Arrow schema of every type family, the sync and async read paths, memoization.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Field } from 'apache-arrow';
import { queryRows, sqlString, withDuckDB, writeExampleLake, writeParquetFile, type ExampleLakeFile } from '../fixtures/parquet/index.js';
import { writeParquetjsLiteFile } from '../fixtures/parquet/parquetjs-lite.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet, type SyntheticFooter } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import type { FileProbe, ProbeFile } from '../src/scanner.js';
import { LocalStorage } from '../src/storage/local.js';
import { probeLocalFile } from './helpers/scan.js';

let dir: string;
let allTypes: string;
let bigFooter: string;
let lake: ExampleLakeFile[];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-parquet-'));
  allTypes = path.join(dir, 'all-types.parquet');
  bigFooter = path.join(dir, 'many-row-groups.parquet');
  await writeParquetFile(allTypes, { rows: 5000, rowGroupSize: 2048 });
  // 24 row groups of 11 columns: a footer well past the 16 KiB tail
  await writeParquetFile(bigFooter, { rows: 24 * 2048, rowGroupSize: 2048, columns: 'lake' });
  lake = await writeExampleLake(path.join(dir, 'lake'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** DuckDB's row groups: rows, summed compressed bytes and first page offset per row group. */
async function duckRowGroups(file: string): Promise<{ rows: number; bytes: number; start: number }[]> {
  return withDuckDB(async (con) => {
    const rows = await queryRows(
      con,
      `SELECT row_group_id, any_value(row_group_num_rows) AS rows, sum(total_compressed_size) AS bytes,
              min(CASE WHEN dictionary_page_offset > 0 AND dictionary_page_offset < data_page_offset
                       THEN dictionary_page_offset ELSE data_page_offset END) AS start
       FROM parquet_metadata(${sqlString(file)}) GROUP BY row_group_id ORDER BY row_group_id`,
    );
    return rows.map((r) => ({ rows: Number(r.rows), bytes: Number(r.bytes), start: Number(r.start) }));
  });
}

/** A ProbeFile as the engine builds it, with a chosen tail size. */
function probeFileOf(file: string, tailBytes: number): ProbeFile {
  const storage = new LocalStorage(path.dirname(file));
  const rel = path.basename(file);
  const { tail, size, mtimeMs } = storage.readTailSync(rel, tailBytes);
  return { path: rel, size, mtimeMs, tail, read: (o, l) => storage.read(rel, o, l) };
}

const ctx = { spec: { format: 'parquet' }, signal: new AbortController().signal };

function typeMap(fields: Field[]): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f.name, String(f.type)]));
}

describe('rows, row groups and byte ranges agree with DuckDB parquet_metadata()', () => {
  it.each([
    ['all-types file (3 row groups)', () => allTypes],
    ['big-footer file (24 row groups)', () => bigFooter],
  ])('%s', async (_name, file) => {
    const probe = await probeLocalFile(parquetScanner, file());
    const duck = await duckRowGroups(file());
    expect(duck.length).toBeGreaterThan(2);
    expect(probe.units.map((u) => u.rows)).toEqual(duck.map((d) => d.rows));
    expect(probe.units.map((u) => u.byteSize)).toEqual(duck.map((d) => d.bytes));
    expect(probe.units.map((u) => u.details?.fileOffset)).toEqual(duck.map((d) => d.start));
    expect(probe.units.map((u) => u.details?.ordinal)).toEqual(duck.map((_, i) => i));
    expect(probe.rows).toBe(duck.reduce((s, d) => s + d.rows, 0));
    expect(probe.warnings).toBeUndefined();
  });

  it('reports the writer, the row-group count and the footer length in details', async () => {
    const probe = await probeLocalFile(parquetScanner, allTypes);
    const bytes = fs.readFileSync(allTypes);
    expect(probe.details).toEqual({
      createdBy: expect.stringMatching(/^DuckDB/),
      numRowGroups: 3,
      footerBytes: bytes.readUInt32LE(bytes.length - 8),
    });
    expect(JSON.parse(JSON.stringify(probe.details))).toEqual(probe.details);
  });

  it('maps every file of the example lake with its row count', async () => {
    for (const f of lake) {
      const probe = await probeLocalFile(parquetScanner, path.join(dir, 'lake', ...f.path.split('/')));
      expect(probe.rows, f.path).toBe(f.rows);
      expect(probe.units.length, f.path).toBe(Math.ceil(f.rows / 2048));
    }
  });
});

describe('a file with no rows', () => {
  it('DuckDB writes it as the magic and a footer only (the footer starts at byte 4): probed as 0 rows with its schema', async () => {
    const file = path.join(dir, 'empty.parquet');
    await withDuckDB((con) => con.run(`COPY (SELECT 1::INTEGER AS a, 'x' AS b LIMIT 0) TO ${sqlString(file)} (FORMAT parquet)`));
    const size = fs.statSync(file).size;
    expect(fs.readFileSync(file).readUInt32LE(size - 8)).toBe(size - 12); // the boundary case: nothing between the magic and the footer
    const probe = await probeLocalFile(parquetScanner, file);
    expect(probe.rows).toBe(0);
    expect(probe.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['a:Int32', 'b:Utf8']);
  });
});

describe('column chunks a footer places past itself', () => {
  it('are mapped with a warning naming the row group, the claimed offset and size, and where the footer starts', async () => {
    const footer = footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 3);
    footer.rowGroups[0]!.columns[0] = { compressed: 5, dataPageOffset: 100 };
    const file = path.join(dir, 'past-footer.parquet');
    writeSyntheticParquet(file, encodeFooter(footer)); // 64 page bytes: the footer starts at byte 68
    const probe = await probeLocalFile(parquetScanner, file);
    expect(probe.rows).toBe(3);
    expect(probe.warnings).toEqual(['row group 0: column chunks claim bytes past the footer (offset 100, 5 bytes; footer at 68)']);
  });
});

describe('a file from a second writer (parquetjs-lite)', () => {
  it('agrees with DuckDB on row groups and maps its parquet-mr-style schema', async () => {
    const file = path.join(dir, 'parquetjs-lite.parquet');
    await writeParquetjsLiteFile(file, 250, 100);
    const probe = await probeLocalFile(parquetScanner, file);
    const duck = await duckRowGroups(file);
    expect(duck.map((d) => d.rows)).toEqual([100, 100, 50]);
    expect(probe.units.map((u) => u.rows)).toEqual([100, 100, 50]);
    expect(probe.units.map((u) => u.byteSize)).toEqual(duck.map((d) => d.bytes));
    expect(probe.units.map((u) => u.details?.fileOffset)).toEqual(duck.map((d) => d.start));
    expect(typeMap(probe.schema.fields)).toEqual({
      name: 'Utf8',
      qty: 'Int64',
      price: 'Float64',
      day: 'Timestamp<MILLISECOND, UTC>',
      tags: 'List<Utf8>', // a bare repeated field
      stock: 'Struct<{warehouse:Utf8, count:Int32}>',
    });
    expect(probe.schema.fields.map((f) => f.nullable)).toEqual([false, false, true, false, false, false]);
  });
});

describe('Arrow schema of a DuckDB file', () => {
  it('maps every column type', async () => {
    const { schema } = await probeLocalFile(parquetScanner, allTypes);
    expect(typeMap(schema.fields)).toEqual({
      id: 'Int64', i8: 'Int8', i16: 'Int16', i32: 'Int32', u8: 'Uint8', u16: 'Uint16', u32: 'Uint32', u64: 'Uint64',
      f32: 'Float32', f64: 'Float64',
      dec4: 'Decimal[4e+2]', dec9: 'Decimal[9e+2]', dec18: 'Decimal[18e+4]', dec38: 'Decimal[38e+10]',
      flag: 'Bool', name: 'Utf8', bin: 'Binary', day: 'Date32<DAY>', tod: 'Time64<MICROSECOND>',
      ts: 'Timestamp<MICROSECOND>', ts_ms: 'Timestamp<MILLISECOND>', ts_ns: 'Timestamp<NANOSECOND>',
      ts_tz: 'Timestamp<MICROSECOND, UTC>', uuid_text: 'Utf8', uid: 'FixedSizeBinary[16]',
      int_list: 'List<Int32>', str_list: 'List<Utf8>', nested_list: 'List<List<Int64>>',
      st: 'Struct<{x:Int32, y:Utf8, z:List<Float64>}>', m: 'Map<{key:Utf8, value:Int64}>',
      // DuckDB writes FLOAT[8] as a plain parquet LIST and no ARROW:schema, so the width is not in the file
      vec: 'List<Float32>',
    });
    expect(schema.fields.every((f) => f.nullable)).toBe(true);
  });

  it('gives decimals their precision, scale and a 128-bit width', async () => {
    const { schema } = await probeLocalFile(parquetScanner, allTypes);
    const dec38 = schema.fields.find((f) => f.name === 'dec38')!.type as unknown as { precision: number; scale: number; bitWidth: number };
    expect([dec38.precision, dec38.scale, dec38.bitWidth]).toEqual([38, 10, 128]);
  });

  it('maps the map key as required and the vector items as nullable floats', async () => {
    const { schema } = await probeLocalFile(parquetScanner, allTypes);
    const m = schema.fields.find((f) => f.name === 'm')!;
    const entries = m.type.children[0]!;
    expect(entries.nullable).toBe(false);
    expect(entries.type.children.map((c: Field) => [c.name, c.nullable])).toEqual([['key', false], ['value', true]]);
    const vec = schema.fields.find((f) => f.name === 'vec')!;
    expect(String(vec.type.children[0]!.type)).toBe('Float32');
  });

  it('agrees with DuckDB on the top-level column names', async () => {
    const { schema } = await probeLocalFile(parquetScanner, allTypes);
    const duck = await withDuckDB((con) => queryRows(con, `DESCRIBE SELECT * FROM read_parquet(${sqlString(allTypes)})`));
    expect(schema.fields.map((f) => f.name)).toEqual(duck.map((r) => r.column_name));
  });
});

describe('read paths', () => {
  it('answers synchronously when the footer is inside the tail', () => {
    const out = parquetScanner.probe(probeFileOf(allTypes, parquetScanner.tailBytes!), ctx);
    expect(out).not.toBeInstanceOf(Promise);
    expect((out as FileProbe).rows).toBe(5000);
  });

  it('reads the footer once more when it is larger than the tail, with the same answer', async () => {
    const size = fs.statSync(bigFooter).size;
    const footerBytes = fs.readFileSync(bigFooter).readUInt32LE(size - 8);
    expect(footerBytes).toBeGreaterThan(parquetScanner.tailBytes!);
    const file = probeFileOf(bigFooter, parquetScanner.tailBytes!);
    let reads = 0;
    const counted: ProbeFile = { ...file, read: (o, l) => (reads++, file.read(o, l)) };
    const out = parquetScanner.probe(counted, ctx);
    expect(out).toBeInstanceOf(Promise);
    const slow = await out;
    expect(reads).toBe(1);
    const fast = parquetScanner.probe(probeFileOf(bigFooter, size), ctx) as FileProbe;
    expect(fast).not.toBeInstanceOf(Promise);
    expect(slow.rows).toBe(24 * 2048);
    expect({ ...slow, schema: undefined }).toEqual({ ...fast, schema: undefined });
    expect(slow.schema).toBe(fast.schema);
  });

  it('works with a tail of exactly the footer and trailer', () => {
    const size = fs.statSync(allTypes).size;
    const footerBytes = fs.readFileSync(allTypes).readUInt32LE(size - 8);
    const out = parquetScanner.probe(probeFileOf(allTypes, footerBytes + 8), ctx);
    expect(out).not.toBeInstanceOf(Promise);
    expect((out as FileProbe).units.length).toBe(3);
  });
});

describe('schema memoization', () => {
  it('returns the same Schema object for files with equal schemas', async () => {
    const [a, b] = await Promise.all(lake.slice(0, 2).map((f) => probeLocalFile(parquetScanner, path.join(dir, 'lake', ...f.path.split('/')))));
    expect(a!.schema).toBe(b!.schema);
  });

  it('returns different objects for different schemas', async () => {
    const a = await probeLocalFile(parquetScanner, allTypes);
    const b = await probeLocalFile(parquetScanner, bigFooter);
    expect(a.schema).not.toBe(b.schema);
    expect(a.schema.fields.length).not.toBe(b.schema.fields.length);
  });

  it('memoizes wide schemas (keyed by a hash of their bytes) too', async () => {
    const columns = 3000;
    const wide: SyntheticFooter = {
      numRows: 1,
      schema: [{ name: 'schema', numChildren: columns }, ...Array.from({ length: columns }, (_, i) => ({ name: `column_${i}`, type: 2, repetition: 1 }))],
      rowGroups: [{ numRows: 1, columns: Array.from({ length: columns }, (_, i) => ({ compressed: 1, dataPageOffset: 4 + i })) }],
    };
    const footer = encodeFooter(wide);
    const a = path.join(dir, 'wide-a.parquet');
    const b = path.join(dir, 'wide-b.parquet');
    writeSyntheticParquet(a, footer, { pageBytes: columns });
    writeSyntheticParquet(b, footer, { pageBytes: columns });
    const pa = await probeLocalFile(parquetScanner, a);
    const pb = await probeLocalFile(parquetScanner, b);
    expect(footer.length).toBeGreaterThan(32 * 1024);
    expect(pa.schema.fields.length).toBe(columns);
    expect(pb.schema).toBe(pa.schema);
    expect(pa.units).toEqual([{ rows: 1, byteSize: columns, details: { ordinal: 0, fileOffset: 4 } }]);
  });
});
