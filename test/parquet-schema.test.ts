// Parquet → Arrow schema mapping for the layouts DuckDB does not write: legacy converted types, INT96,
// logical types with parameters, field ids, the 2-level list rules of LogicalTypes.md, legacy maps.
// Footers are built by hand (fixtures/parquet/synthetic-footer.ts) so each rule is hit on purpose.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Field, Schema } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactWriter, T, encodeFooter, footerForSchema, writeSyntheticParquet, type SyntheticElement } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { LakemapError } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

const INT32 = 1, INT64 = 2, INT96 = 3, BYTE_ARRAY = 6, FLBA = 7;
const REQ = 0, OPT = 1, REP = 2;
const UTF8 = 0, MAP = 1, MAP_KEY_VALUE = 2, LIST = 3, DECIMAL = 5, TIMESTAMP_MILLIS = 9, UINT_32 = 13;

let dir: string;
let n = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-parquet-schema-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function schemaOf(fields: SyntheticElement[]): Promise<Schema> {
  const top = countTopLevel(fields);
  const file = path.join(dir, `s${n++}.parquet`);
  writeSyntheticParquet(file, encodeFooter(footerForSchema([{ name: 'schema', numChildren: top }, ...fields])));
  return (await probeLocalFile(parquetScanner, file)).schema;
}

/** Top-level fields of a depth-first element list. */
function countTopLevel(fields: SyntheticElement[]): number {
  let i = 0;
  let top = 0;
  const skip = (): void => {
    const c = fields[i++]!.numChildren ?? 0;
    for (let k = 0; k < c; k++) skip();
  };
  while (i < fields.length) {
    skip();
    top++;
  }
  return top;
}

const types = (s: Schema): Record<string, string> => Object.fromEntries(s.fields.map((f) => [f.name, String(f.type)]));
const child = (f: Field): Field => f.type.children[0]!;

const timestamp = (utc: boolean, unitId: 1 | 2 | 3) => (w: CompactWriter) =>
  w.field(8, T.STRUCT).struct(() => {
    w.field(1, utc ? T.TRUE : T.FALSE);
    w.field(2, T.STRUCT).struct(() => w.field(unitId, T.STRUCT).struct(() => {}));
  });
const integer = (bits: number, signed: boolean) => (w: CompactWriter) =>
  w.field(10, T.STRUCT).struct(() => w.field(1, T.BYTE).byte(bits).field(2, signed ? T.TRUE : T.FALSE));
const decimal = (precision: number, scale: number) => (w: CompactWriter) =>
  w.field(5, T.STRUCT).struct(() => w.field(1, T.I32).i32(scale).field(2, T.I32).i32(precision));

describe('primitive types', () => {
  it('maps legacy, logical and physical annotations', async () => {
    const s = await schemaOf([
      { name: 'int96', type: INT96, repetition: OPT },
      { name: 'ts_legacy', type: INT64, repetition: OPT, convertedType: TIMESTAMP_MILLIS },
      { name: 'ts_local_ns', type: INT64, repetition: OPT, logicalType: timestamp(false, 3) },
      { name: 'ts_utc_us', type: INT64, repetition: OPT, logicalType: timestamp(true, 2) },
      { name: 'u16', type: INT32, repetition: OPT, logicalType: integer(16, false) },
      { name: 'u32_legacy', type: INT32, repetition: OPT, convertedType: UINT_32 },
      { name: 'uuid', type: FLBA, typeLength: 16, repetition: OPT, logicalTypeId: 14 },
      { name: 'half', type: FLBA, typeLength: 2, repetition: OPT, logicalTypeId: 15 },
      { name: 'dec_fixed', type: FLBA, typeLength: 9, repetition: OPT, convertedType: DECIMAL, precision: 20, scale: 3 },
      { name: 'dec_wide', type: BYTE_ARRAY, repetition: OPT, logicalType: decimal(50, 5) },
      { name: 'json', type: BYTE_ARRAY, repetition: OPT, logicalTypeId: 12 },
      { name: 'future', type: BYTE_ARRAY, repetition: OPT, logicalTypeId: 99 },
      { name: 'raw', type: BYTE_ARRAY, repetition: OPT },
    ]);
    expect(types(s)).toEqual({
      int96: 'Timestamp<NANOSECOND>',
      ts_legacy: 'Timestamp<MILLISECOND, UTC>',
      ts_local_ns: 'Timestamp<NANOSECOND>',
      ts_utc_us: 'Timestamp<MICROSECOND, UTC>',
      u16: 'Uint16',
      u32_legacy: 'Uint32',
      uuid: 'FixedSizeBinary[16]',
      half: 'Float16',
      dec_fixed: 'Decimal[20e+3]',
      dec_wide: 'Decimal[50e+5]',
      json: 'Utf8',
      future: 'Binary', // an unknown LogicalType member falls back to the physical type
      raw: 'Binary',
    });
    expect((s.fields.find((f) => f.name === 'dec_wide')!.type as unknown as { bitWidth: number }).bitWidth).toBe(256);
  });

  it('turns REQUIRED into non-null and field_id into PARQUET:field_id metadata', async () => {
    const s = await schemaOf([
      { name: 'id', type: INT64, repetition: REQ, fieldId: 7 },
      { name: 'note', type: BYTE_ARRAY, repetition: OPT, convertedType: UTF8 },
    ]);
    expect(s.fields.map((f) => [f.name, f.nullable, f.metadata.get('PARQUET:field_id') ?? null])).toEqual([
      ['id', false, '7'],
      ['note', true, null],
    ]);
  });
});

describe('lists (LogicalTypes.md backward-compatibility rules)', () => {
  it('applies each rule', async () => {
    const s = await schemaOf([
      // rule 1: the repeated field is a primitive → it is the element, required
      { name: 'r1', repetition: OPT, convertedType: LIST, numChildren: 1 },
      { name: 'element', type: INT32, repetition: REP },
      // rule 2: a repeated group of several fields → the group is the element
      { name: 'r2', repetition: OPT, convertedType: LIST, numChildren: 1 },
      { name: 'pair', repetition: REP, numChildren: 2 },
      { name: 'a', type: INT32, repetition: REQ },
      { name: 'b', type: BYTE_ARRAY, repetition: REQ, convertedType: UTF8 },
      // rule 3: a one-field group named `array` … → the group is the element
      { name: 'r3', repetition: OPT, convertedType: LIST, numChildren: 1 },
      { name: 'array', repetition: REP, numChildren: 1 },
      { name: 'str', type: BYTE_ARRAY, repetition: REQ, convertedType: UTF8 },
      // … or `<list name>_tuple`
      { name: 'r3b', repetition: OPT, logicalTypeId: 3, numChildren: 1 },
      { name: 'r3b_tuple', repetition: REP, numChildren: 1 },
      { name: 'str', type: BYTE_ARRAY, repetition: REQ, convertedType: UTF8 },
      // rule 4: the standard 3-level list → the group's only child is the element, with its own repetition
      { name: 'r4', repetition: OPT, logicalTypeId: 3, numChildren: 1 },
      { name: 'list', repetition: REP, numChildren: 1 },
      { name: 'element', type: INT64, repetition: OPT },
      // a repeated field outside any LIST
      { name: 'bare', type: INT32, repetition: REP },
      // a LIST whose shape is no list → read as the struct it is
      { name: 'odd', repetition: OPT, convertedType: LIST, numChildren: 2 },
      { name: 'x', type: INT32, repetition: OPT },
      { name: 'y', type: INT32, repetition: OPT },
    ]);
    expect(types(s)).toEqual({
      r1: 'List<Int32>',
      r2: 'List<Struct<{a:Int32, b:Utf8}>>',
      r3: 'List<Struct<{str:Utf8}>>',
      r3b: 'List<Struct<{str:Utf8}>>',
      r4: 'List<Int64>',
      bare: 'List<Int32>',
      odd: 'Struct<{x:Int32, y:Int32}>',
    });
    const f = (name: string): Field => s.fields.find((x) => x.name === name)!;
    expect(child(f('r1')).nullable).toBe(false);
    expect(child(f('r4')).nullable).toBe(true);
    expect([f('bare').nullable, child(f('bare')).nullable]).toEqual([false, false]);
  });
});

describe('maps', () => {
  it('maps MAP and legacy MAP_KEY_VALUE groups, and a key-only map as a list of keys', async () => {
    const kv = (valueless = false): SyntheticElement[] => [
      { name: 'key_value', repetition: REP, numChildren: valueless ? 1 : 2 },
      { name: 'key', type: BYTE_ARRAY, repetition: REQ, convertedType: UTF8 },
      ...(valueless ? [] : [{ name: 'value', type: INT32, repetition: OPT }]),
    ];
    const s = await schemaOf([
      { name: 'm', repetition: OPT, convertedType: MAP, numChildren: 1 },
      ...kv(),
      { name: 'legacy', repetition: OPT, convertedType: MAP_KEY_VALUE, numChildren: 1 },
      ...kv(),
      { name: 'keys_only', repetition: OPT, logicalTypeId: 2, numChildren: 1 },
      ...kv(true),
    ]);
    expect(types(s)).toEqual({
      m: 'Map<{key:Utf8, value:Int32}>',
      legacy: 'Map<{key:Utf8, value:Int32}>',
      keys_only: 'List<Utf8>',
    });
    const entries = child(s.fields[0]!);
    expect(entries.type.children.map((c: Field) => c.nullable)).toEqual([false, true]);
  });
});

describe('schemas that cannot be mapped', () => {
  it.each<[string, SyntheticElement[], RegExp]>([
    ['a decimal with precision 0', [{ name: 'd', type: INT32, repetition: OPT, convertedType: DECIMAL, precision: 0, scale: 0 }], /decimal with precision 0/],
    ['a fixed-length column without a length', [{ name: 'f', type: FLBA, repetition: OPT }], /type_length \(none\)/],
    ['a field without repetition', [{ name: 'x', type: INT32 }], /"x" has no repetition type/],
    ['an unknown converted type', [{ name: 'x', type: INT32, repetition: OPT, convertedType: 77 }], /unknown converted type 77/],
    ['an INTEGER of 12 bits', [{ name: 'x', type: INT32, repetition: OPT, logicalType: integer(12, true) }], /bit width 12/],
  ])('refuses %s as CORRUPT_FILE', async (_name, fields, reason) => {
    const err = await schemaOf(fields).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as LakemapError).message).toMatch(reason);
  });
});
