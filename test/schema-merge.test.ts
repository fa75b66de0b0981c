// mergeFileSchemas rule by rule (issue 15, mutation testing): which widenings are allowed and which
// types conflict, which file a message names, what becomes nullable and what each file records as
// missing. test/schema-evolution.test.ts runs the same merge end to end on DuckDB-written files; these
// reach the cases those files cannot express (unsigned ints, 256-bit decimals, time, unions, maps).
import { describe, expect, it } from 'vitest';
import {
  DataType,
  DateDay,
  Decimal,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Schema,
  Struct,
  TimeMillisecond,
  Timestamp,
  TimeUnit,
  Uint32,
  Uint64,
  Union,
  UnionMode,
  Utf8,
} from 'apache-arrow';
import { LakemapError } from '../src/errors.js';
import { mergeFileSchemas, typeName } from '../src/manifest/schema-evolution.js';
import type { FieldMapping, JsonObject, ManifestFile } from '../src/types.js';

function file(path: string, schemaIndex: number, details?: JsonObject): ManifestFile {
  return { path, sizeBytes: 1, mtimeMs: 0, fingerprint: path, rows: 1, liveRows: 1, liveRowsExact: true, schemaIndex, units: [], ...(details ? { details } : {}) };
}

const col = (name: string, type: DataType, nullable = true) => new Field(name, type, nullable);

/** Merges one file per schema, named a, b, c… in that order. */
function merge(schemas: Field[][], opts: { fields?: FieldMapping[]; skipInvalid?: boolean; metadata?: Map<string, string>[] } = {}) {
  const s = schemas.map((fields, i) => new Schema(fields, opts.metadata?.[i]));
  const files = schemas.map((_, i) => file(String.fromCharCode(97 + i), i));
  return mergeFileSchemas({ files, schemaOf: (i) => s[i]!, fields: opts.fields ?? [], skipInvalid: opts.skipInvalid ?? false });
}

function mismatch(f: () => unknown): LakemapError {
  try {
    f();
  } catch (e) {
    expect(LakemapError.is(e, 'SCHEMA_MISMATCH'), String(e)).toBe(true);
    return e as LakemapError;
  }
  throw new Error('expected SCHEMA_MISMATCH');
}

const typeOf = (r: ReturnType<typeof merge>, name: string) => r.schema.fields.find((f) => f.name === name)!.type;

describe('integers', () => {
  it('unsigned widens only into a strictly wider signed int, in either order', () => {
    expect(String(typeOf(merge([[col('x', new Uint32())], [col('x', new Int64())]]), 'x'))).toBe('Int64');
    expect(String(typeOf(merge([[col('x', new Int64())], [col('x', new Uint32())]]), 'x'))).toBe('Int64');
    mismatch(() => merge([[col('x', new Uint32())], [col('x', new Int32())]]));
    mismatch(() => merge([[col('x', new Int32())], [col('x', new Uint32())]]));
    mismatch(() => merge([[col('x', new Uint64())], [col('x', new Int64())]]));
    expect(String(typeOf(merge([[col('x', new Uint32())], [col('x', new Uint64())]]), 'x'))).toBe('Uint64');
  });

  it('an int does not merge with a 32-bit time, a date or a timestamp', () => {
    mismatch(() => merge([[col('x', new Int64())], [col('x', new TimeMillisecond())]]));
    mismatch(() => merge([[col('x', new DateDay())], [col('x', new Int32())]]));
    mismatch(() => merge([[col('x', new Timestamp(TimeUnit.MICROSECOND))], [col('x', new Int64())]]));
  });
});

describe('decimals, timestamps, nested types', () => {
  it('a decimal of the same precision and scale widens to its 256-bit form; another scale conflicts', () => {
    const r = merge([[col('d', new Decimal(2, 10, 128))], [col('d', new Decimal(2, 10, 256))]]);
    expect((typeOf(r, 'd') as Decimal).bitWidth).toBe(256);
    mismatch(() => merge([[col('d', new Decimal(2, 10, 128))], [col('d', new Decimal(3, 12, 128))]]));
  });

  it('timestamps of different units conflict', () => {
    const e = mismatch(() => merge([[col('t', new Timestamp(TimeUnit.MILLISECOND))], [col('t', new Timestamp(TimeUnit.MICROSECOND))]]));
    expect(e.message).toContain('is Timestamp(MILLISECOND) in a but Timestamp(MICROSECOND) in b');
  });

  it('struct fields merge by name: widened, added nullable, missing ones nullable; a struct never merges with a scalar', () => {
    const r = merge([
      [col('s', new Struct([col('x', new Int32(), false), col('gone', new Utf8(), false)]), false)],
      [col('s', new Struct([col('x', new Int64(), false), col('y', new Utf8(), false)]), false)],
    ]);
    const s = typeOf(r, 's') as Struct;
    expect(s.children.map((f) => [f.name, String(f.type), f.nullable])).toEqual([['x', 'Int64', false], ['gone', 'Utf8', true], ['y', 'Utf8', true]]);
    mismatch(() => merge([[col('s', new Struct([col('x', new Int32())]))], [col('s', new Int32())]]));
    mismatch(() => merge([[col('s', new Struct([col('x', new Int32())]))], [col('s', new Struct([col('x', new Utf8())]))]]));
  });

  it('a struct gains a field a later file adds, and widens a field alone', () => {
    const added = merge([[col('s', new Struct([col('x', new Int32(), false)]))], [col('s', new Struct([col('x', new Int32(), false), col('y', new Utf8(), false)]))]]);
    expect(typeName(typeOf(added, 's'))).toBe('Struct<x: Int32, y: Utf8>');
    expect((typeOf(added, 's') as Struct).children[1]!.nullable).toBe(true);
    const widened = merge([[col('s', new Struct([col('x', new Int32(), false)]))], [col('s', new Struct([col('x', new Int64(), false)]))]]);
    expect(typeName(typeOf(widened, 's'))).toBe('Struct<x: Int64>');
  });

  it('a struct that nothing changes keeps its type', () => {
    const st = new Struct([col('x', new Int32())]);
    const r = merge([[col('s', st)], [col('s', new Struct([col('x', new Int32())]))]]);
    expect(typeOf(r, 's')).toBe(st);
  });

  it('lists widen their item; fixed-size lists only of the same size; a list never merges with a scalar', () => {
    const r = merge([[col('l', new List(col('item', new Int32())))], [col('l', new List(col('item', new Int64())))]]);
    expect(typeName(typeOf(r, 'l'))).toBe('List<Int64>');
    const f = merge([[col('v', new FixedSizeList(3, col('item', new Float32())))], [col('v', new FixedSizeList(3, col('item', new Float64())))]]);
    expect(typeName(typeOf(f, 'v'))).toBe('FixedSizeList(3)<Float64>');
    const same = new List(col('item', new Int64()));
    expect(typeOf(merge([[col('l', same)], [col('l', new List(col('item', new Int32())))]]), 'l')).toBe(same);
    mismatch(() => merge([[col('v', new FixedSizeList(3, col('item', new Float32())))], [col('v', new FixedSizeList(4, col('item', new Float32())))]]));
    mismatch(() => merge([[col('l', new List(col('item', new Int32())))], [col('l', new Int32())]]));
    mismatch(() => merge([[col('l', new Int32())], [col('l', new List(col('item', new Int32())))]]));
    mismatch(() => merge([[col('l', new List(col('item', new Int32())))], [col('l', new List(col('item', new Utf8())))]]));
  });

  it('other nested types must be the same, child names included', () => {
    const map = () => new Map_(col('entries', new Struct([col('key', new Utf8(), false), col('value', new Int32())]), false));
    expect(String(typeOf(merge([[col('m', map())], [col('m', map())]]), 'm'))).toBe('Map<{key:Utf8, value:Int32}>');
    const union = (a: string) => new Union(UnionMode.Sparse, [0, 1], [col(a, new Int32()), col('s', new Utf8())]);
    mismatch(() => merge([[col('u', union('a'))], [col('u', union('b'))]]));
  });
});

describe('which file a conflict names', () => {
  it('the first file of a schema, and the file where the column took its current type', () => {
    const s = [new Schema([col('x', new Int32(), false)]), new Schema([col('x', new Int64())]), new Schema([col('x', new Utf8())])];
    const files = [file('a', 0), file('a2', 0), file('b', 1), file('c', 2)];
    const e = mismatch(() => mergeFileSchemas({ files, schemaOf: (i) => s[i]!, fields: [], skipInvalid: false }));
    expect(e.message).toMatch(/^column "x" is Int64 in b but Utf8 in c, and neither widens/);
    expect(e.path).toBe('c');
  });

  it('a schema shared by several files is named by its first file', () => {
    const s = [new Schema([col('x', new Int32())]), new Schema([col('x', new Utf8())])];
    const files = [file('a', 0), file('a2', 0), file('b', 1)];
    const e = mismatch(() => mergeFileSchemas({ files, schemaOf: (i) => s[i]!, fields: [], skipInvalid: false }));
    expect(e.message).toContain('is Int32 in a but Utf8 in b');
  });

  it('a change of nullability or an equal type keeps the file where the type came from', () => {
    for (const [first, second] of [
      [new Int32(), new Int32()],
      [new Float64(), new Float64()],
      [new Decimal(2, 10, 128), new Decimal(2, 10, 128)],
    ] as const) {
      const e = mismatch(() => merge([[col('x', first, false)], [col('x', second, true)], [col('x', new Utf8())]]));
      expect(e.message).toContain(` in a but Utf8 in c`);
    }
  });

  it('under skip_invalid the conflicting files are skipped with the reason; the merge starts from the first kept file', () => {
    const r = merge([[col('x', new Int32())], [col('x', new Utf8())]], { skipInvalid: true });
    expect(r.files.map((f) => f.path)).toEqual(['a']);
    expect(r.skipped).toEqual([{ path: 'b', code: 'SCHEMA_MISMATCH', reason: expect.stringContaining('column "x" is Int32 in a but Utf8 in b') }]);
    expect(r.schemaWhere).toBe('a');
  });
});

describe('nullability, missing columns, metadata', () => {
  it('a column every file has keeps its nullability; one nullable anywhere is nullable', () => {
    const r = merge([[col('x', new Int32(), false), col('y', new Int32(), false)], [col('x', new Int32(), false), col('y', new Int32(), true)]]);
    expect(r.schema.fields.map((f) => [f.name, f.nullable])).toEqual([['x', false], ['y', true]]);
    expect(r.files.every((f) => f.details === undefined)).toBe(true);
  });

  it('keeps the first schema’s metadata', () => {
    const r = merge([[col('x', new Int32())], [col('x', new Int32())]], { metadata: [new Map([['k', 'first']]), new Map([['k', 'second']])] });
    expect(r.schema.metadata.get('k')).toBe('first');
  });

  it('with declared fields, only mapped columns are recorded as missing', () => {
    const r = merge([[col('id', new Int32()), col('extra', new Utf8())], [col('other', new Utf8())]], { fields: [{ name: 'id', externalField: 'id' }] });
    expect(r.files.map((f) => f.details?.['missingColumns'])).toEqual([undefined, ['id']]);
  });

  it('replaces a stale missingColumns record and keeps the file’s other details', () => {
    const s = [new Schema([col('x', new Int32()), col('y', new Int32())]), new Schema([col('x', new Int32())])];
    const files = [
      file('a', 0, { missingColumns: ['old'], rowGroups: 2 }),
      file('b', 1, { missingColumns: ['old'] }),
      file('c', 0, { missingColumns: ['old'] }),
      file('d', 1),
      file('e', 1, { rowGroups: 1 }),
    ];
    const r = mergeFileSchemas({ files, schemaOf: (i) => s[i]!, fields: [], skipInvalid: false });
    expect(r.files.map((f) => [f.path, f.details])).toStrictEqual([
      ['a', { rowGroups: 2 }],
      ['b', { missingColumns: ['y'] }],
      ['c', undefined],
      ['d', { missingColumns: ['y'] }],
      ['e', { rowGroups: 1, missingColumns: ['y'] }],
    ]);
    expect(r.files.find((f) => f.path === 'c')).not.toHaveProperty('details');
  });

  it('no files: an empty schema, no starting file', () => {
    const r = mergeFileSchemas({ files: [], schemaOf: () => new Schema([]), fields: [], skipInvalid: false });
    expect(r).toMatchObject({ schemaWhere: '', files: [], skipped: [] });
    expect(r.schema.fields).toEqual([]);
  });
});

describe('typeName of nested and timestamp types', () => {
  it('writes every unit, the time zone and nested children', () => {
    expect(typeName(new Timestamp(TimeUnit.SECOND))).toBe('Timestamp(SECOND)');
    expect(typeName(new Timestamp(TimeUnit.MILLISECOND, 'UTC'))).toBe('Timestamp(MILLISECOND, UTC)');
    expect(typeName(new Timestamp(TimeUnit.MICROSECOND))).toBe('Timestamp(MICROSECOND)');
    expect(typeName(new Timestamp(TimeUnit.NANOSECOND, '+01:00'))).toBe('Timestamp(NANOSECOND, +01:00)');
    expect(typeName(new List(col('item', new Decimal(2, 10, 128))))).toBe('List<Decimal(10, 2)>');
    expect(typeName(new FixedSizeList(3, col('item', new Float32())))).toBe('FixedSizeList(3)<Float32>');
    expect(typeName(new Struct([col('a', new Int32()), col('b', new Decimal(1, 5, 128))]))).toBe('Struct<a: Int32, b: Decimal(5, 1)>');
  });
});
