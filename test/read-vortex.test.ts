// Vortex segments read back through engine.readSegment from files our fixture writer builds from the
// spec with known values: canonical encodings (primitive of every width with nulls, bool, varbinview,
// varbin, struct, ext, null), the cheap ones (constant, sequence, dict, chunked), the layouts a writer
// uses (struct, chunked, zoned, dict, flat; array tree inline in the layout metadata) and several
// chunks split over segments. Values are compared exactly, row by row.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { RefreshEngine } from '../src/index.js';
import {
  boolArray, chunkedArray, constantArray, decimalArray, dictArray, extArray, fixedSizeListArray, listArray, listViewArray, nullArray,
  primitiveArray, sequenceArray, structArray, varBinArray, varBinViewArray, type FixtureArray,
} from '../fixtures/vortex/arrays.js';
import { writeVortexFile, type FixtureFile, type FixtureLayout } from '../fixtures/vortex/file-writer.js';
import { PType, type FixtureDType } from '../fixtures/vortex/flatbuffers.js';
import { timestampMetadata } from '../fixtures/vortex/samples.js';
import { scalarInt, scalarNull, scalarString, scalarUint } from '../fixtures/vortex/scalar-proto.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const flat = (rows: number, array: FixtureArray, inlineArrayTree = false): FixtureLayout => ({ id: 'vortex.flat', rows, array, inlineArrayTree });
const chunked = (chunks: FixtureLayout[]): FixtureLayout => ({ id: 'vortex.chunked', rows: chunks.reduce((n, c) => n + c.rows, 0), children: chunks });
const struct = (rows: number, fields: FixtureLayout[]): FixtureLayout => ({ id: 'vortex.struct', rows, children: fields });

/** Refreshes a collection over `files` and reads every segment; returns the batches per segment. */
export async function readAll(files: Record<string, FixtureFile>, spec: Record<string, unknown> = {}, columns?: string[]): Promise<RecordBatch[][]> {
  const src = tempDir();
  for (const [name, f] of Object.entries(files)) writeFile(path.join(src, name), writeVortexFile(f).bytes);
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex', ...spec } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  const m = await engine.getManifest({ collectionName: 'v' });
  const out: RecordBatch[][] = [];
  for (const s of m.segments) {
    const batches: RecordBatch[] = [];
    for await (const b of engine.readSegment({ collectionName: 'v', segmentId: s.id, ...(columns ? { columns } : {}) })) batches.push(b);
    out.push(batches);
  }
  return out;
}

/** Values of column `name` over batches, as `Vector.get` gives them. */
function column(batches: RecordBatch[], name: string): unknown[] {
  return batches.flatMap((b) => {
    const v = b.getChild(name)!;
    return Array.from({ length: v.length }, (_, i) => v.get(i));
  });
}

// ---- one file with every canonical encoding, in three row chunks (a chunked root of struct chunks) ----

const i8 = [-128, null, 0, 127, 5, null, -1];
const u16 = [0, 65535, 1, 2, 3, 4, 5];
const i32 = [null, -2147483648, 2147483647, 0, null, 7, 8];
const u64 = [0n, 18446744073709551615n, 1n, 2n, 3n, 9007199254740993n, 4n];
const i64 = [-9223372036854775808n, 9223372036854775807n, 0n, -1n, 1n, 2n, 3n];
const f32 = [1.5, -0, 3.25, Infinity, -2.5, 0.125, 8];
const f64 = [Math.PI, null, -1e300, 0, NaN, null, 2.5];
const flags = [true, false, null, true, true, null, false];
const names = ['ant', null, 'a string longer than twelve bytes', '', 'zebra', 'ünïcödé is fine too, and long', null];
const blobs = ['x', 'yy', null, '', 'zzz', 'w', 'v'];
const px = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5];
const plabel = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
const pvalid = [true, true, false, true, true, true, false];
const ts = [0n, 1n, -1n, 1700000000000000n, 2n, 3n, 4n];

const CANONICAL_FIELDS: [string, FixtureDType][] = [
  ['i8', { kind: 'primitive', ptype: PType.I8, nullable: true }],
  ['u16', { kind: 'primitive', ptype: PType.U16 }],
  ['i32', { kind: 'primitive', ptype: PType.I32, nullable: true }],
  ['u64', { kind: 'primitive', ptype: PType.U64 }],
  ['i64', { kind: 'primitive', ptype: PType.I64 }],
  ['f32', { kind: 'primitive', ptype: PType.F32 }],
  ['f64', { kind: 'primitive', ptype: PType.F64, nullable: true }],
  ['flag', { kind: 'bool', nullable: true }],
  ['name', { kind: 'utf8', nullable: true }],
  ['blob', { kind: 'binary', nullable: true }],
  ['point', { kind: 'struct', fields: [['x', { kind: 'primitive', ptype: PType.F64 }], ['label', { kind: 'utf8' }]], nullable: true }],
  ['ts', { kind: 'extension', id: 'vortex.timestamp', storage: { kind: 'primitive', ptype: PType.I64 }, metadata: timestampMetadata(1, 'UTC') }],
  ['nothing', { kind: 'null' }],
];

/** The struct chunk of rows [a, b). */
function canonicalChunk(a: number, b: number): FixtureLayout {
  const n = b - a;
  const s = <T,>(v: T[]): T[] => v.slice(a, b);
  return struct(n, [
    flat(n, primitiveArray('I8', s(i8))),
    flat(n, primitiveArray('U16', s(u16))),
    flat(n, primitiveArray('I32', s(i32))),
    flat(n, primitiveArray('U64', s(u64))),
    flat(n, primitiveArray('I64', s(i64))),
    flat(n, primitiveArray('F32', s(f32))),
    flat(n, primitiveArray('F64', s(f64))),
    flat(n, boolArray(s(flags), a % 8)),
    flat(n, varBinViewArray(s(names), 2)),
    flat(n, varBinArray(s(blobs), a === 0 ? 'I32' : 'U64')),
    flat(n, structArray([primitiveArray('F64', s(px)), varBinViewArray(s(plabel))], s(pvalid))),
    flat(n, extArray(primitiveArray('I64', s(ts)))),
    flat(n, nullArray()),
  ]);
}

const CANONICAL: FixtureFile = {
  dtype: { kind: 'struct', fields: CANONICAL_FIELDS },
  layout: chunked([canonicalChunk(0, 3), canonicalChunk(3, 5), canonicalChunk(5, 7)]),
};

describe('reading vortex segments: canonical encodings', () => {
  it('reads every column of every row exactly, segments cut at the chunks, in file order', async () => {
    const segments = await readAll({ 'a.vortex': CANONICAL }, { segment_max_rows: 4 });
    expect(segments.map((bs) => bs.map((b) => b.numRows))).toEqual([[3], [2, 2]]); // one batch per chunk
    const batches = segments.flat();
    expect(column(batches, 'i8')).toEqual(i8);
    expect(column(batches, 'u16')).toEqual(u16);
    expect(column(batches, 'i32')).toEqual(i32);
    expect(column(batches, 'u64')).toEqual(u64);
    expect(column(batches, 'i64')).toEqual(i64);
    expect(column(batches, 'f32')).toEqual(f32);
    expect(column(batches, 'f64')).toEqual(f64);
    expect(column(batches, 'flag')).toEqual(flags);
    expect(column(batches, 'name')).toEqual(names);
    expect(column(batches, 'blob').map((b) => (b === null ? null : Buffer.from(b as Uint8Array).toString()))).toEqual(blobs);
    expect(column(batches, 'point').map((p) => (p === null ? null : (p as { toJSON(): unknown }).toJSON()))).toEqual(
      px.map((x, i) => (pvalid[i] ? { x, label: plabel[i] } : null)),
    );
    expect(batches.flatMap((b) => Array.from(b.getChild('ts')!.data[0]!.values as BigInt64Array))).toEqual(ts);
    expect(column(batches, 'nothing')).toEqual(new Array(7).fill(null));
    const schema = batches[0]!.schema;
    expect(schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`)).toEqual([
      'i8:Int8:true', 'u16:Uint16:false', 'i32:Int32:true', 'u64:Uint64:false', 'i64:Int64:false', 'f32:Float32:false',
      'f64:Float64:true', 'flag:Bool:true', 'name:Utf8:true', 'blob:Binary:true', 'point:Struct<{x:Float64, label:Utf8}>:true',
      'ts:Timestamp<MICROSECOND, UTC>:false', 'nothing:Null:true',
    ]);
    expect(batches.every((b) => b.getChild('i8')!.nullCount === b.toArray().filter((r) => r.i8 === null).length)).toBe(true);
  });

  it('reads a subset of columns, renamed by the collection, in the asked order', async () => {
    const src = tempDir();
    writeFile(path.join(src, 'a.vortex'), writeVortexFile(CANONICAL).bytes);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({
      collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' },
      fields: [{ name: 'label', externalField: 'name' }, { name: 'n', externalField: 'i64' }],
    });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'v' });
    const batches: RecordBatch[] = [];
    for await (const b of engine.readSegment({ collectionName: 'v', segmentId: m.segments[0]!.id, columns: ['n', 'label'] })) batches.push(b);
    expect(batches[0]!.schema.fields.map((f) => f.name)).toEqual(['n', 'label']);
    expect(column(batches, 'n')).toEqual(i64);
    expect(column(batches, 'label')).toEqual(names);
  });
});

// ---- the cheap encodings and the default writer's layout shape ----

const CITIES = ['Oslo', 'Rome', 'a city name longer than 12'];
const cityCodes = [0, 1, 1, 2, 0, null, 2, 1];
const temps = [1, 2, 3, 4, 5, 6, 7, 8];

const CHEAP: FixtureFile = {
  dtype: {
    kind: 'struct',
    fields: [
      ['city', { kind: 'utf8', nullable: true }],
      ['temp', { kind: 'primitive', ptype: PType.I16 }],
      ['seq', { kind: 'primitive', ptype: PType.I64 }],
      ['tag', { kind: 'utf8', nullable: true }],
      ['level', { kind: 'primitive', ptype: PType.U8, nullable: true }],
      ['code', { kind: 'primitive', ptype: PType.U32, nullable: true }],
    ],
  },
  layout: struct(8, [
    // struct → zoned → dict layout (values flat, codes chunked into flats), as the default writer does
    {
      id: 'vortex.zoned', rows: 8, children: [
        {
          id: 'vortex.dict', rows: 8, metadata: Uint8Array.of(0x08, PType.U8, 0x10, 1), children: [
            flat(3, varBinViewArray(CITIES)),
            chunked([flat(5, primitiveArray('U8', cityCodes.slice(0, 5))), flat(3, primitiveArray('U8', cityCodes.slice(5)))]),
          ],
        },
        flat(2, primitiveArray('I64', [0n, 0n])), // zone table: never read
      ],
    },
    chunked([flat(6, primitiveArray('I16', temps.slice(0, 6))), flat(2, primitiveArray('I16', temps.slice(6)))]),
    flat(8, sequenceArray(scalarInt(-10n), scalarInt(3n)), true), // array tree inline in the layout metadata
    chunked([flat(4, constantArray(scalarString('same'))), flat(4, constantArray(scalarNull()))]),
    flat(8, dictArray(primitiveArray('U16', [1, 0, null, 1, 1, 0, 0, null]), 'U16', primitiveArray('U8', [200, 9]), 2, true)),
    flat(8, chunkedArray([{ array: constantArray(scalarUint(7n)), rows: 3 }, { array: primitiveArray('U32', [1, null, 3, 4, 5]), rows: 5 }])),
  ]),
};

describe('reading vortex segments: cheap encodings and the default layout shape', () => {
  it('decodes dict layouts, zoned layouts, sequence, constant, dict and chunked arrays, an inline array tree', async () => {
    const segments = await readAll({ 'c.vortex': CHEAP }, { segment_max_rows: 3 });
    // common chunk boundaries of all columns: 0, 5, 6, 8 (dict codes 5|3, temp 6|2, tag 4|4 → {0, 8} ∩ …)
    const batches = segments.flat();
    expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(8);
    expect(column(batches, 'city')).toEqual(cityCodes.map((c) => (c === null ? null : CITIES[c])));
    expect(column(batches, 'temp')).toEqual(temps);
    expect(column(batches, 'seq')).toEqual([-10n, -7n, -4n, -1n, 2n, 5n, 8n, 11n]);
    expect(column(batches, 'tag')).toEqual(['same', 'same', 'same', 'same', null, null, null, null]);
    expect(column(batches, 'level')).toEqual([9, 200, null, 9, 9, 200, 200, null]);
    expect(column(batches, 'code')).toEqual([7, 7, 7, 1, null, 3, 4, 5]);
  });

  it('a non-struct root reads as one column "value"', async () => {
    const file: FixtureFile = {
      dtype: { kind: 'primitive', ptype: PType.F32, nullable: true },
      layout: chunked([flat(2, primitiveArray('F32', [1.5, null])), flat(3, primitiveArray('F32', [null, 2.5, -3]))]),
    };
    const batches = (await readAll({ 'r.vortex': file })).flat();
    expect(batches.map((b) => b.numRows)).toEqual([2, 3]);
    expect(column(batches, 'value')).toEqual([1.5, null, null, 2.5, -3]);
  });
});

describe('reading vortex segments: cancelling', () => {
  it('stops between chunks with CANCELLED when the signal aborts', async () => {
    const src = tempDir();
    writeFile(path.join(src, 'a.vortex'), writeVortexFile(CANONICAL).bytes);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' } });
    await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
    const m = await engine.getManifest({ collectionName: 'v' });
    const ac = new AbortController();
    const seen: number[] = [];
    const err = await (async () => {
      for await (const b of engine.readSegment({ collectionName: 'v', segmentId: m.segments[0]!.id, signal: ac.signal })) {
        seen.push(b.numRows);
        ac.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual([3]);
    expect(err).toMatchObject({ code: 'CANCELLED' });
  });
});

// ---- decimals and lists (vectors) ----

/** Unscaled decimal values of a column (Arrow stores them as little-endian 32-bit words). */
function decimals(batches: RecordBatch[], name: string): (bigint | null)[] {
  return batches.flatMap((b) => {
    const v = b.getChild(name)!;
    const d = v.data[0]!;
    const words = d.values as Uint32Array;
    const stride = (d.type as unknown as { bitWidth: number }).bitWidth / 32;
    return Array.from({ length: v.length }, (_, i) => {
      if (!v.isValid(i)) return null;
      let x = 0n;
      for (let k = stride - 1; k >= 0; k--) x = (x << 32n) | BigInt(words[(d.offset + i) * stride + k]!);
      return BigInt.asIntN(stride * 32, x);
    });
  });
}

const VEC = [[1, 2, 3, 4], null, [0.5, -0.5, 8, 9], [7, 7, 7, 7]];
const TAGS = [['a', 'bb'], [], null, ['a string longer than twelve bytes']];
const NUMS = [[5n, 6n], null, [1n], [2n, 3n, 4n]];

const NESTED: FixtureFile = {
  dtype: {
    kind: 'struct',
    fields: [
      ['price', { kind: 'decimal', precision: 10, scale: 2, nullable: true }],
      ['big', { kind: 'decimal', precision: 50, scale: 5 }],
      ['vec', { kind: 'fixed_size_list', element: { kind: 'primitive', ptype: PType.F32 }, size: 4, nullable: true }],
      ['tags', { kind: 'list', element: { kind: 'utf8' }, nullable: true }],
      ['nums', { kind: 'list', element: { kind: 'primitive', ptype: PType.I64 }, nullable: true }],
    ],
  },
  layout: chunked([
    struct(4, [
      flat(4, decimalArray(3, [-12345n, null, 0n, 99999999n])),
      flat(4, decimalArray(4, [-(10n ** 30n), 1n, 10n ** 37n, -1n])),
      flat(4, fixedSizeListArray(primitiveArray('F32', VEC.flatMap((v) => v ?? [0, 0, 0, 0])), VEC)),
      flat(4, listArray(varBinViewArray(['a', 'bb', 'a string longer than twelve bytes']), 3, [0, 2, 2, 2, 3], TAGS)),
      // list view: rows point anywhere in the elements, in any order
      flat(4, listViewArray(primitiveArray('I64', [9n, 2n, 3n, 4n, 5n, 6n, 1n]), 7, [4, 0, 6, 1], [2, 0, 1, 3], NUMS)),
    ]),
  ]),
};

describe('reading vortex segments: decimals, vectors and lists', () => {
  it('decimals of every storage width widen to Decimal128/256; fixed-size lists, lists and list views read row by row', async () => {
    const batches = (await readAll({ 'n.vortex': NESTED })).flat();
    expect(decimals(batches, 'price')).toEqual([-12345n, null, 0n, 99999999n]);
    expect(decimals(batches, 'big')).toEqual([-(10n ** 30n), 1n, 10n ** 37n, -1n]);
    const list = (name: string) => column(batches, name).map((v) => (v === null ? null : Array.from(v as Iterable<unknown>)));
    expect(list('vec')).toEqual(VEC);
    expect(list('tags')).toEqual(TAGS);
    expect(list('nums')).toEqual(NUMS);
    expect(batches[0]!.schema.fields.map((f) => String(f.type))).toEqual([
      'Decimal[10e+2]', 'Decimal[50e+5]', 'FixedSizeList[4]<Float32>', 'List<Utf8>', 'List<Int64>',
    ]);
  });

  it('a list field declared with dim reads as FixedSizeList; a row of another length fails with ROW_SHAPE_MISMATCH', async () => {
    const src = tempDir();
    const file = (lengths: number[]): FixtureFile => {
      const offsets = [0];
      for (const n of lengths) offsets.push(offsets[offsets.length - 1]! + n);
      const total = offsets[offsets.length - 1]!;
      return {
        dtype: { kind: 'struct', fields: [['emb', { kind: 'list', element: { kind: 'primitive', ptype: PType.F32 } }]] },
        layout: struct(lengths.length, [flat(lengths.length, listArray(primitiveArray('F32', Array.from({ length: total }, (_, i) => i)), total, offsets, lengths))]),
      };
    };
    writeFile(path.join(src, 'good.vortex'), writeVortexFile(file([3, 3])).bytes);
    writeFile(path.join(src, 'bad.vortex'), writeVortexFile(file([3, 2])).bytes);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' }, fields: [{ name: 'emb', externalField: 'emb', dim: 3 }] });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'v' });
    const read = async (file: string) => {
      const s = m.segments.find((x) => x.ranges[0]!.path === file)!;
      const out: RecordBatch[] = [];
      for await (const b of engine.readSegment({ collectionName: 'v', segmentId: s.id })) out.push(b);
      return out;
    };
    const good = await read('good.vortex');
    expect(String(good[0]!.schema.fields[0]!.type)).toBe('FixedSizeList[3]<Float32>');
    expect(column(good, 'emb').map((v) => Array.from(v as Iterable<number>))).toEqual([[0, 1, 2], [3, 4, 5]]);
    await expect(read('bad.vortex')).rejects.toMatchObject({ code: 'ROW_SHAPE_MISMATCH', message: expect.stringMatching(/bad\.vortex.*"emb" row 1 has 2 values.*dim 3/) });
  });
});

describe('reading vortex segments: masked and zigzag', () => {
  it('masked arrays take their validity child; zigzag decodes signed integers of every width', async () => {
    const zz = (v: bigint, bits: number): bigint => BigInt.asUintN(bits, (v << 1n) ^ (v >> BigInt(bits - 1)));
    const i8s = [0n, -1n, 1n, -128n, 127n];
    const i64s = [0n, -1n, 9223372036854775807n, -9223372036854775808n, 42n];
    const file: FixtureFile = {
      dtype: {
        kind: 'struct',
        fields: [
          ['m', { kind: 'utf8', nullable: true }],
          ['z8', { kind: 'primitive', ptype: PType.I8 }],
          ['z64', { kind: 'primitive', ptype: PType.I64, nullable: true }],
        ],
      },
      layout: struct(5, [
        flat(5, { encoding: 'vortex.masked', children: [varBinViewArray(['a', 'b', 'c', 'd', 'e']), boolArray([true, false, true, false, true])] }),
        flat(5, { encoding: 'vortex.zigzag', children: [primitiveArray('U8', i8s.map((v) => Number(zz(v, 8))))] }),
        flat(5, { encoding: 'vortex.zigzag', children: [primitiveArray('U64', i64s.map((v, i) => (i === 4 ? null : zz(v, 64))))] }),
      ]),
    };
    const batches = (await readAll({ 'z.vortex': file })).flat();
    expect(column(batches, 'm')).toEqual(['a', null, 'c', null, 'e']);
    expect(column(batches, 'z8')).toEqual(i8s.map(Number));
    expect(column(batches, 'z64')).toEqual([0n, -1n, 9223372036854775807n, -9223372036854775808n, null]);
  });
});

describe('reading vortex segments: whole-struct flat layouts', () => {
  it('a root written as flat struct arrays (no struct layout) gives each column from its field', async () => {
    const file: FixtureFile = {
      dtype: { kind: 'struct', fields: [['id', { kind: 'primitive', ptype: PType.U32 }], ['name', { kind: 'utf8', nullable: true }]] },
      layout: chunked([
        flat(2, structArray([primitiveArray('U32', [1, 2]), varBinViewArray(['one', null])])),
        flat(3, structArray([sequenceArray(scalarUint(3n), scalarUint(1n)), varBinArray(['three', 'four', 'a name longer than twelve'])])),
      ]),
    };
    const segments = await readAll({ 's.vortex': file }, { segment_max_rows: 2 }, ['name', 'id']);
    expect(segments.map((s) => s.map((b) => b.numRows))).toEqual([[2], [3]]);
    const batches = segments.flat();
    expect(column(batches, 'id')).toEqual([1, 2, 3, 4, 5]);
    expect(column(batches, 'name')).toEqual(['one', null, 'three', 'four', 'a name longer than twelve']);
  });
});

describe('docs/reading.md lists what the Vortex decoder reads', () => {
  it('every decoded encoding appears in a "yes" row of the Vortex table', async () => {
    const fs = await import('node:fs');
    const { DECODED_ENCODINGS } = await import('../src/read/vortex/encodings.js');
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../docs/reading.md'), 'utf8');
    const yesRows = doc.split('\n').filter((l) => / \| yes \| /.test(l)).join('\n');
    for (const id of DECODED_ENCODINGS) expect(yesRows, id).toContain(`\`${id}\``);
  });
});
