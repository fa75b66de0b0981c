// Reading nested parquet columns (structs, maps, lists of lists, lists of structs, deeper mixes, and
// the legacy repeated shapes without LIST annotation): every segment's rows, and row ranges that start
// and end inside row groups, equal DuckDB's rows for the same file; damaged levels fail with
// CORRUPT_FILE naming the file and column, never rows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Type, type RecordBatch } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from '../src/index.js';
import { SourceFile } from '../src/read/source-file.js';
import { readParquetRange } from '../src/read/parquet/reader.js';
import { readFooter } from '../src/read/parquet/footer.js';
import { readPageHeader } from '../src/read/parquet/page-header.js';
import { sqlString } from '../fixtures/parquet/duckdb.js';
import { writeLegacyRepeatedParquet, writeNestedParquet, type NestedParquetOptions } from '../fixtures/read/nested.js';
import { arrowRows, duckRows } from './helpers/canonical-rows.js';
import { tempDir } from './helpers/tmp.js';

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function engineOver(dir: string, maxRows: number, fields?: { name: string; externalField: string; dim?: number }[]): Promise<RefreshEngine> {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: dir, externalSpec: { format: 'parquet', segment_max_rows: maxRows }, ...(fields ? { fields } : {}) });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine;
}

/** Every segment's rows equal DuckDB's rows of the file for the segment's range. */
async function expectSegmentsEqualDuckDB(dir: string, file: string, maxRows: number): Promise<number> {
  const engine = await engineOver(dir, maxRows);
  const m = await engine.getManifest({ collectionName: 'c' });
  const want = await duckRows(`SELECT * FROM read_parquet(${sqlString(path.join(dir, file))})`);
  let rows = 0;
  for (const s of m.segments) {
    const r = s.ranges[0]!;
    const got = arrowRows(await collect(engine.readSegment({ collectionName: 'c', segmentId: s.id })));
    expect(got.length).toBe(r.rows);
    expect(got, `segment at row ${r.rowOffset}`).toEqual(want.slice(r.rowOffset, r.rowOffset + r.rows));
    rows += got.length;
  }
  expect(rows).toBe(want.length);
  return m.segments.length;
}

/** Rows [offset, offset + rows) read straight from the file, all columns. */
function readRange(file: string, rowOffset: number, rows: number): RecordBatch[] {
  const f = new SourceFile(file, path.basename(file));
  try {
    const footer = readFooter(f);
    const columns = footer.schema.fields.map((field) => ({ field, external: field.name }));
    return [...readParquetRange(f, { rowOffset, rows, columns, schema: footer.schema }, footer)];
  } finally {
    f.close();
  }
}

const ROWS = 7000;
const GROUP = 2048;

describe.each([
  { codec: 'snappy', parquetVersion: 'V1' },
  { codec: 'zstd', parquetVersion: 'V2' },
] as const)('DuckDB-written nested columns ($codec, pages $parquetVersion)', (opts) => {
  let dir: string;
  const options: NestedParquetOptions = { rows: ROWS, rowGroupSize: GROUP, ...opts };
  beforeAll(async () => {
    dir = tempDir();
    await writeNestedParquet(path.join(dir, 'n.parquet'), options);
  });

  it('maps each shape to the nested Arrow type the scanner gives it', () => {
    const f = new SourceFile(path.join(dir, 'n.parquet'), 'n.parquet');
    const footer = readFooter(f);
    f.close();
    expect(footer.rowGroups.length).toBe(Math.ceil(ROWS / GROUP));
    expect(Object.fromEntries(footer.schema.fields.map((x) => [x.name, String(x.type)]))).toEqual({
      id: 'Int32',
      s: 'Struct<{a:Int32, b:Struct<{c:Utf8, d:List<Float64>}>, dec:Decimal[12e+2], ts:Timestamp<MICROSECOND>, ok:Bool, raw:Binary}>',
      ll: 'List<List<Int32>>',
      m: 'Map<{key:Utf8, value:List<Int64>}>',
      ls: 'List<Struct<{x:Int32, y:Utf8}>>',
      sl: 'Struct<{l:List<Int16>, mm:Map<{key:Int32, value:Struct<{p:Map<{key:Utf8, value:Bool}>, q:Float64}>}>}>',
      deep: 'List<Struct<{inner:List<Struct<{v:Int32}>>}>>',
    });
  });

  it('each segment (one per row group, most starting mid-file) holds DuckDB rows for its range', async () => {
    expect(await expectSegmentsEqualDuckDB(dir, 'n.parquet', GROUP)).toBe(Math.ceil(ROWS / GROUP));
  });

  it('row ranges starting and ending inside row groups hold DuckDB rows', async () => {
    const file = path.join(dir, 'n.parquet');
    const all = await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
    for (const [offset, rows] of [[2000, 2100], [0, 1], [4095, 2], [6999, 1], [1, 6998]] as const) {
      const batches = readRange(file, offset, rows);
      expect(arrowRows(batches), `rows [${offset}, ${offset + rows})`).toEqual(all.slice(offset, offset + rows));
    }
  });

  it('has nulls at every level in the fixture (so the comparison covers them)', async () => {
    const rows = arrowRows(readRange(path.join(dir, 'n.parquet'), 0, 400));
    const json = JSON.stringify(rows);
    expect(rows.some((r) => r.s === null)).toBe(true);
    expect(json).toContain('["a",null]');
    expect(json).toContain('["b",null]');
    expect(json).toContain('["d",null]');
    expect(rows.some((r) => Array.isArray(r.ll) && r.ll.includes(null))).toBe(true);
    expect(rows.some((r) => Array.isArray(r.ll) && r.ll.some((x) => Array.isArray(x) && x.includes(null)))).toBe(true);
    expect(rows.some((r) => Array.isArray(r.ll) && r.ll.some((x) => Array.isArray(x) && x.length === 0))).toBe(true);
    expect(rows.some((r) => r.m === null)).toBe(true);
    expect(json).toContain('{"map":[]}');
    expect(rows.some((r) => Array.isArray(r.ls) && r.ls.includes(null))).toBe(true);
  });
});

describe('legacy repeated fields without LIST annotation (parquetjs-lite)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    await writeLegacyRepeatedParquet(path.join(dir, 'p.parquet'), 1000, 300);
  });

  it('reads them as never-null lists, equal to DuckDB, segment by segment and by row range', async () => {
    const f = new SourceFile(path.join(dir, 'p.parquet'), 'p.parquet');
    const footer = readFooter(f);
    f.close();
    expect(footer.rowGroups.length).toBe(4);
    const types = Object.fromEntries(footer.schema.fields.map((x) => [x.name, x.type.typeId]));
    expect(types).toEqual({ id: Type.Int, tags: Type.List, items: Type.List, meta: Type.Struct });
    expect(await expectSegmentsEqualDuckDB(dir, 'p.parquet', 300)).toBe(4);
    const file = path.join(dir, 'p.parquet');
    const all = await duckRows(`SELECT * FROM read_parquet(${sqlString(file)})`);
    expect(arrowRows(readRange(file, 250, 400))).toEqual(all.slice(250, 650));
  });
});

describe('refusals', () => {
  it('a dim declared on a list of structs is UNSUPPORTED, naming the column', async () => {
    const dir = tempDir();
    await writeNestedParquet(path.join(dir, 'n.parquet'), { rows: 50, rowGroupSize: 2048 });
    const engine = await engineOver(dir, 2048, [{ name: 'v', externalField: 'ls', dim: 2 }]);
    const m = await engine.getManifest({ collectionName: 'c' });
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(/n\.parquet: column "ls".*dim/);
  });
});

/**
 * An uncompressed one-row-group file whose levels are single RLE runs, so a test can change one
 * leaf's definition levels in place: `s` is a struct of `a` (always set) and `b` (always null);
 * `l` is a list holding one list of two ints in every row.
 */
async function runFile(dir: string): Promise<string> {
  const file = path.join(dir, 'r.parquet');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    await con.run(`COPY (SELECT {'a': i::INTEGER, 'b': NULL::INTEGER} AS s, [[i::INTEGER, 2]] AS l FROM range(100) t(i)) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION uncompressed)`);
  } finally {
    con.closeSync();
    db.closeSync();
  }
  fs.utimesSync(file, 1e9, 1e9);
  return file;
}

/** Rewrites the value of the (single) RLE run of the definition levels in leaf `leaf`'s first data page. */
function setDefRun(file: string, leaf: number, value: number, repeated = leaf === 2): void {
  const f = new SourceFile(file, 'r.parquet');
  const chunk = readFooter(f).rowGroups[0]!.columns[leaf]!;
  f.close();
  const bytes = fs.readFileSync(file);
  let pos = chunk.start;
  let h = readPageHeader(bytes, pos, chunk.start + chunk.length);
  while (h.type !== 0) {
    pos = h.dataStart + h.compressedSize; // skip a dictionary page
    h = readPageHeader(bytes, pos, chunk.start + chunk.length);
  }
  // v1 page: [repetition levels: 4-byte length + runs] (lists only), [definition levels: same], values
  let p = h.dataStart;
  if (repeated) p += 4 + bytes.readUInt32LE(p);
  const len = bytes.readUInt32LE(p);
  const run = bytes.subarray(p + 4, p + 4 + len);
  // one RLE run: varint header (count << 1), then the value in one byte
  let q = 0;
  while (run[q]! & 0x80) q++;
  expect(run[0]! & 1, 'the definition levels are one RLE run').toBe(0);
  expect(q + 2, 'the definition levels are one RLE run').toBe(len);
  run[q + 1] = value;
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, 1e9, 1e9); // same size and mtime: only the content tells
}

describe('damaged levels: CORRUPT_FILE naming the file and column, never rows', () => {
  it('reads the undamaged file', async () => {
    const dir = tempDir();
    await runFile(dir);
    const rows = arrowRows(readRange(path.join(dir, 'r.parquet'), 0, 100));
    expect(rows[5]).toEqual({ s: { struct: [['a', 5], ['b', null]] }, l: [[5, 2]] });
  });

  it('two leaves of a struct that disagree on whether it is null', async () => {
    const dir = tempDir();
    const file = await runFile(dir);
    const engine = await engineOver(dir, 2048);
    setDefRun(file, 1, 0); // b says the struct is null in every row, a says it is set
    const m = await engine.getManifest({ collectionName: 'c' });
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id, columns: ['s'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as Error).message).toMatch(/r\.parquet: column "s" of row group 0: .*leaves "s\.a" and "s\.b" disagree/);
  });

  it('a repetition level that continues a list its definition level says is empty', async () => {
    const dir = tempDir();
    const file = await runFile(dir);
    const engine = await engineOver(dir, 2048);
    setDefRun(file, 2, 3); // every entry: the inner list is there but empty — yet every second entry repeats it
    const m = await engine.getManifest({ collectionName: 'c' });
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id, columns: ['l'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as Error).message).toMatch(/r\.parquet: column "l" of row group 0: .*continues a list/);
  });

  it('a flat list whose repetition continues a list its definition level says is empty', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'r.parquet');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    try {
      await con.run(`COPY (SELECT [i::INTEGER, 2] AS f FROM range(100) t(i)) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION uncompressed)`);
    } finally {
      con.closeSync();
      db.closeSync();
    }
    fs.utimesSync(file, 1e9, 1e9); // setDefRun restores this mtime: the manifest still names the file
    const engine = await engineOver(dir, 2048);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(arrowRows(await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id })))[7]).toEqual({ f: [7, 2] });
    setDefRun(file, 0, 1, true); // every entry: the list is there but empty — yet every second entry repeats it
    const err = await collect(engine.readSegment({ collectionName: 'c', segmentId: m.segments[0]!.id })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as Error).message).toMatch(/r\.parquet: column "f" of row group 0: .*continues a list/);
  });
});

describe('random damage to the pages of nested columns', () => {
  it('gives rows or a LakemapError, never another exception (200 damaged copies, fixed seed)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'n.parquet');
    await writeNestedParquet(file, { rows: 300, rowGroupSize: 2048, codec: 'uncompressed' });
    const orig = fs.readFileSync(file);
    const f0 = new SourceFile(file, 'n.parquet');
    const footer = readFooter(f0);
    f0.close();
    const columns = footer.schema.fields.map((field) => ({ field, external: field.name }));
    const pagesEnd = orig.length - 8 - orig.readUInt32LE(orig.length - 8); // the footer stays intact
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const outcomes: Record<string, number> = {};
    for (let t = 0; t < 200; t++) {
      const b = Buffer.from(orig);
      for (let k = 0; k < 3; k++) b[4 + Math.floor(rnd() * (pagesEnd - 4))] = Math.floor(rnd() * 256);
      fs.writeFileSync(file, b);
      const f = new SourceFile(file, 'n.parquet');
      try {
        let rows = 0;
        for (const batch of readParquetRange(f, { rowOffset: 0, rows: 300, columns, schema: footer.schema }, footer)) rows += batch.numRows;
        expect(rows).toBe(300);
        outcomes.rows = (outcomes.rows ?? 0) + 1;
      } catch (e) {
        if (!(e instanceof LakemapError)) throw e;
        expect(e.message).toMatch(/^n\.parquet: /);
        outcomes[e.code] = (outcomes[e.code] ?? 0) + 1;
      } finally {
        f.close();
      }
    }
    expect(outcomes.CORRUPT_FILE).toBeGreaterThan(0); // the damage did reach the decoder
  }, 120_000);
});
