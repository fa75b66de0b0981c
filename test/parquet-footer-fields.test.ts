// Footer fields no file of the corpus or DuckDB fixture has (issue 15, mutation testing of
// scanners/parquet/metadata.ts), written with the hand-built Thrift encoder: each LogicalType member as
// parquet.thrift numbers it and the Arrow type LogicalTypes.md gives it; fields of the wrong Thrift type
// or shape, refused as CORRUPT_FILE with the reason; the writer (created_by) of consecutive files; an
// ARROW:schema entry among look-alike keys.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Field, FixedSizeList, Float32, Int64, Schema, Table, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { CompactWriter, T, encodeFooter, footerForSchema, writeSyntheticParquet, type SyntheticElement, type SyntheticFooter } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { LakemapError } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';
import { tempDir } from './helpers/tmp.js';

const INT32 = 1, INT64 = 2, BYTE_ARRAY = 6;
const OPT = 1;
const UTF8 = 0;

const dir = tempDir('lakemap-parquet-fields-');
let n = 0;
function write(footer: Uint8Array): string {
  const file = path.join(dir, `f${n++}.parquet`);
  writeSyntheticParquet(file, footer);
  return file;
}
const withRoot = (fields: SyntheticElement[]): SyntheticElement[] => [{ name: 'schema', numChildren: fields.length }, ...fields];
const probeFooter = (f: SyntheticFooter) => probeLocalFile(parquetScanner, write(encodeFooter(f)));
const types = async (fields: SyntheticElement[]): Promise<Record<string, string>> => {
  const s = (await probeFooter(footerForSchema(withRoot(fields)))).schema;
  return Object.fromEntries(s.fields.map((f) => [f.name, String(f.type)]));
};

async function failure(footer: Uint8Array): Promise<LakemapError> {
  const file = write(footer);
  const e = await probeLocalFile(parquetScanner, file).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LakemapError);
  const err = e as LakemapError;
  expect(err.code).toBe('CORRUPT_FILE');
  expect(err.message).toContain(path.basename(file));
  return err;
}

/** A LogicalType union holding member `id` with `body` as its struct. */
const logical = (id: number, body: (w: CompactWriter) => void = () => {}) => (w: CompactWriter) => w.field(id, T.STRUCT).struct(body);
const time = (utc: boolean, unitId: number) =>
  logical(7, (w) => {
    w.field(1, utc ? T.TRUE : T.FALSE);
    w.field(2, T.STRUCT).struct(() => w.field(unitId, T.STRUCT).struct(() => {}));
  });

describe('LogicalType members', () => {
  it('map to their Arrow types, over what the converted type says', async () => {
    expect(
      await types([
        // A converted type that disagrees shows the logical member was read (the logical type wins).
        { name: 'string', type: BYTE_ARRAY, repetition: OPT, logicalTypeId: 1 },
        { name: 'enum', type: BYTE_ARRAY, repetition: OPT, logicalTypeId: 4 },
        { name: 'date', type: INT32, repetition: OPT, logicalTypeId: 6 },
        { name: 'null', type: INT32, repetition: OPT, logicalTypeId: 11 },
        { name: 'bson', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8, logicalTypeId: 13 },
        { name: 'variant', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8, logicalTypeId: 16 },
        { name: 'geometry', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8, logicalTypeId: 17 },
        { name: 'geography', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8, logicalTypeId: 18 },
        { name: 'future', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8, logicalTypeId: 40 },
      ]),
    ).toEqual({
      string: 'Utf8',
      enum: 'Utf8',
      date: 'Date32<DAY>',
      null: 'Null',
      bson: 'Binary',
      variant: 'Binary',
      geometry: 'Binary',
      geography: 'Binary',
      future: 'Utf8', // an unknown member leaves the converted type in charge
    });
  });

  it('TIME in each unit; a TIME whose unit is no known one is refused', async () => {
    expect(
      await types([
        { name: 'ms', type: INT32, repetition: OPT, logicalType: time(false, 1) },
        { name: 'us', type: INT64, repetition: OPT, logicalType: time(true, 2) },
        { name: 'ns', type: INT64, repetition: OPT, logicalType: time(false, 3) },
      ]),
    ).toEqual({ ms: 'Time32<MILLISECOND>', us: 'Time64<MICROSECOND>', ns: 'Time64<NANOSECOND>' });
    const e = await failure(encodeFooter(footerForSchema(withRoot([{ name: 't', type: INT64, repetition: OPT, logicalType: time(false, 4) }]))));
    expect(e.message).toMatch(/TimeUnit names no known unit/);
  });

  it('a union field that is not a struct is skipped; the member that is one counts', async () => {
    const lt = (w: CompactWriter) => {
      w.field(1, T.I32).i32(5); // STRING's id with an i32: not a member, skipped
      w.field(4, T.STRUCT).struct(() => {}); // ENUM
    };
    expect(await types([{ name: 'x', type: BYTE_ARRAY, repetition: OPT, logicalType: lt }])).toEqual({ x: 'Utf8' });
  });
});

describe('fields of the wrong shape are CORRUPT_FILE with the reason', () => {
  /** A footer with field `id` replaced by raw bytes (the rest as a valid one-column footer). */
  const base = (): SyntheticFooter => footerForSchema(withRoot([{ name: 'a', type: INT32, repetition: OPT }]), 10);
  const topLevel = (fields: (w: CompactWriter) => void): Uint8Array => {
    const w = new CompactWriter();
    w.struct(fields);
    return w.bytes();
  };
  const schemaList = (w: CompactWriter) => {
    w.field(2, T.LIST).list(T.STRUCT, 2);
    w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(1));
    w.struct(() => w.field(1, T.I32).i32(INT32).field(3, T.I32).i32(OPT).field(4, T.BINARY).binary('a'));
  };

  it('no num_rows, or num_rows of the wrong type', async () => {
    expect((await failure(topLevel((w) => schemaList(w)))).message).toMatch(/FileMetaData has no num_rows/);
    expect((await failure(topLevel((w) => (schemaList(w), w.field(3, T.I32).i32(10))))).message).toMatch(/FileMetaData\.num_rows has compact type 5, expected 6/);
  });

  it('row_groups, key_value_metadata or a row group\'s columns that are not lists of structs', async () => {
    const rowsThen = (rest: (w: CompactWriter) => void) => topLevel((w) => (schemaList(w), w.field(3, T.I64).i64(0), rest(w)));
    expect((await failure(rowsThen((w) => w.field(4, T.LIST).list(T.I32, 1).i32(1)))).message).toMatch(/FileMetaData\.row_groups is not a list of structs/);
    expect((await failure(rowsThen((w) => w.field(5, T.LIST).list(T.BINARY, 1).binary('k')))).message).toMatch(/key_value_metadata is not a list of structs/);
    expect((await failure(rowsThen((w) => w.field(4, T.LIST).list(T.STRUCT, 1).struct(() => w.field(1, T.LIST).list(T.I64, 1).i64(3))))).message).toMatch(
      /RowGroup\.columns is not a list of structs/,
    );
    expect((await failure(topLevel((w) => w.field(1, T.I32).i32(1).field(2, T.LIST).list(T.I32, 1).i32(3)))).message).toMatch(/FileMetaData\.schema is not a list of structs/);
    expect((await failure(topLevel((w) => w.field(1, T.I32).i32(1).field(2, T.I32).i32(3)))).message).toMatch(/FileMetaData\.schema has compact type 5, expected 9/);
    expect((await failure(topLevel((w) => w.field(1, T.I64).i64(1)))).message).toMatch(/FileMetaData\.version has compact type 6, expected 5/);
    expect((await failure(rowsThen((w) => w.field(4, T.I32).i32(1)))).message).toMatch(/FileMetaData\.row_groups has compact type 5, expected 9/);
    expect((await failure(rowsThen((w) => w.field(5, T.I32).i32(1)))).message).toMatch(/FileMetaData\.key_value_metadata has compact type 5, expected 9/);
    expect((await failure(rowsThen((w) => w.field(6, T.I32).i32(1)))).message).toMatch(/FileMetaData\.created_by has compact type 5, expected 8/);
  });

  it('a row group without num_rows, or with a negative total_byte_size', async () => {
    const rg = (body: (w: CompactWriter) => void) => topLevel((w) => (schemaList(w), w.field(3, T.I64).i64(0), w.field(4, T.LIST).list(T.STRUCT, 1).struct(body)));
    expect((await failure(rg((w) => w.field(2, T.I64).i64(5)))).message).toMatch(/row group 0 has no num_rows/);
    expect((await failure(rg((w) => w.field(2, T.I64).i64(-5).field(3, T.I64).i64(0)))).message).toMatch(/row group 0 has negative total_byte_size/);
    // a column chunk without a data page offset
    const noDataPage = rg((w) =>
      w
        .field(1, T.LIST)
        .list(T.STRUCT, 1)
        .struct(() => w.field(2, T.I64).i64(0).field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(4)))
        .field(3, T.I64)
        .i64(0),
    );
    expect((await failure(noDataPage)).message).toMatch(/column 0 of row group 0 has no or a negative data_page_offset/);
    expect(base().rowGroups).toHaveLength(1);
  });
});

describe('the writer and the Arrow schema entry', () => {
  it('each file reports its own created_by, also when consecutive files share a prefix or a length', async () => {
    const writers = ['writer A', 'writer AB', 'writer B', 'writer A', 'parquet-cpp-arrow version 19.0.0', 'writer A'];
    for (const createdBy of writers) {
      const probe = await probeFooter({ ...footerForSchema(withRoot([{ name: 'a', type: INT32, repetition: OPT }])), createdBy });
      expect(probe.details?.createdBy).toBe(createdBy);
    }
    const none = await probeFooter(footerForSchema(withRoot([{ name: 'a', type: INT32, repetition: OPT }])));
    expect(none.details?.createdBy).toBeNull();
  });

  it('only the key ARROW:schema counts, the last one wins, and one without a value is no schema', async () => {
    const vectorSchema = new Schema([new Field('id', new Int64(), false), new Field('vec', new FixedSizeList(4, new Field('item', new Float32(), true)), true)]);
    const ipc = tableToIPC(new Table(vectorSchema), 'stream');
    const b64 = Buffer.from(ipc.subarray(0, ipc.length - 8)).toString('base64');
    const parquetSide: SyntheticFooter = {
      numRows: 3,
      schema: [
        { name: 'schema', numChildren: 2 },
        { name: 'id', type: INT64, repetition: 0 },
        { name: 'vec', repetition: 1, numChildren: 1, convertedType: 3 },
        { name: 'list', repetition: 2, numChildren: 1 },
        { name: 'item', type: 4, repetition: 1 },
      ],
      rowGroups: [{ numRows: 3, columns: [{ compressed: 10, dataPageOffset: 4 }, { compressed: 30, dataPageOffset: 14 }] }],
    };
    const vecType = async (keyValue: [string, string][]) => String((await probeFooter({ ...parquetSide, keyValue })).schema.fields[1]!.type);
    expect(await vecType([['ARROW:schema', b64]])).toBe('FixedSizeList[4]<Float32>');
    // look-alike keys: same length one letter off, longer, shorter: the parquet schema is used
    expect(await vecType([['ARROW:schemX', b64], ['ARROW:schemas', b64], ['ARROW:schem', b64], ['arrow:schema', b64]])).toBe('List<Float32>');
    // the last entry wins: a bad one after a good one is a fallback with a warning
    const last = await probeFooter({ ...parquetSide, keyValue: [['ARROW:schema', b64], ['ARROW:schema', 'bm90IGFycm93']] });
    expect(last.warnings).toEqual([expect.stringMatching(/ARROW:schema metadata does not decode/)]);
    expect(await vecType([['ARROW:schema', 'bm90IGFycm93'], ['ARROW:schema', b64]])).toBe('FixedSizeList[4]<Float32>');
    // a key without a value field
    const keyOnly = encodeFooter({ ...parquetSide, extra: (w) => w.field(5, T.LIST).list(T.STRUCT, 1).struct(() => w.field(1, T.BINARY).binary('ARROW:schema')) });
    const probe = await probeLocalFile(parquetScanner, write(keyOnly));
    expect(String(probe.schema.fields[1]!.type)).toBe('List<Float32>');
    expect(probe.warnings).toBeUndefined();
  });
});

it('the temp folder is ours', () => {
  expect(fs.existsSync(dir)).toBe(true);
});
