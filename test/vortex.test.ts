// The vortex scanner against files written by the spec-following fixture writer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flat, structOf, writeVortexSamples, type SampleName } from '../fixtures/vortex/samples.js';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { PType, type FixtureDType } from '../fixtures/vortex/flatbuffers.js';
import { scalarDecimal, scalarF16, scalarF64, scalarInt, scalarList, scalarNull, scalarUint } from '../fixtures/vortex/scalar-proto.js';
import { decodeScalar, decimalString } from '../scanners/vortex/scalar.js';
import type { FixtureLayoutReport } from '../fixtures/vortex/file-writer.js';
import { vortexScanner } from '../scanners/vortex/index.js';
import type { FileProbe } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

let dir: string;
let samples: Record<SampleName, FixtureLayoutReport & { path: string }>;
const probes = {} as Record<SampleName, FileProbe>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-vortex-'));
  samples = writeVortexSamples(dir);
});
// Probed per test, not in beforeAll: scanner code run from a beforeAll makes its mutants "static" for
// Stryker (every mutant rerun with the whole suite). Ten small files: cheap.
beforeEach(async () => {
  for (const name of Object.keys(samples) as SampleName[]) probes[name] = await probeLocalFile(vortexScanner, samples[name].path);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('fixture files follow the file-format spec (checked without the scanner)', () => {
  it('start and end with VTXF, then version 1 and the postscript length before the end magic', () => {
    for (const s of Object.values(samples)) {
      const b = s.bytes;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      expect(Buffer.from(b.subarray(0, 4)).toString('latin1')).toBe('VTXF');
      expect(Buffer.from(b.subarray(b.length - 4)).toString('latin1')).toBe('VTXF');
      expect(v.getUint16(b.length - 8, true)).toBe(1);
      expect(v.getUint16(b.length - 6, true)).toBe(s.postscriptLength);
      expect(s.postscriptOffset).toBe(b.length - 8 - s.postscriptLength);
    }
  });

  it('postscript read with the flatbuffers runtime points at the footer segments, which end at the postscript', () => {
    const s = samples.flat_struct;
    const ps = new ByteBuffer(s.bytes.slice(s.postscriptOffset, s.postscriptOffset + s.postscriptLength));
    const root = ps.readInt32(0);
    const segment = (slot: number): { offset: bigint; length: number } => {
      const field = ps.__offset(root, 4 + 2 * slot);
      const t = ps.__indirect(root + field);
      return { offset: ps.readUint64(t + ps.__offset(t, 4)), length: ps.readUint32(t + ps.__offset(t, 6)) };
    };
    const [dtype, layout, stats, footer] = [0, 1, 2, 3].map(segment);
    expect(dtype!.offset).toBe(s.footerSegments.dtype!.offset);
    expect(layout!.offset).toBe(dtype!.offset + BigInt(dtype!.length));
    expect(stats!.offset).toBe(layout!.offset + BigInt(layout!.length));
    expect(footer!.offset).toBe(stats!.offset + BigInt(stats!.length));
    expect(Number(footer!.offset) + footer!.length).toBe(s.postscriptOffset);
  });

  it('data segments are 8-byte aligned serialized arrays ending in the u32 length of their Array flatbuffer', () => {
    for (const s of Object.values(samples)) {
      const v = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
      for (const seg of s.dataSegments) {
        expect(Number(seg.offset) % 8).toBe(0);
        const end = Number(seg.offset) + seg.length;
        const fbLength = v.getUint32(end - 4, true);
        expect(fbLength).toBeGreaterThan(8);
        expect(fbLength).toBeLessThan(seg.length);
      }
    }
  });
});

describe('mapping a struct root', () => {
  it('flat layouts: rows from the root layout, one unit holding every data segment', () => {
    const p = probes.flat_struct;
    expect(p.rows).toBe(5);
    expect(p.units).toEqual([{ rows: 5, byteSize: sum(samples.flat_struct.dataSegments.map((s) => s.length)) }]);
    expect(p.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([['id', 'Int64', false], ['name', 'Utf8', true]]);
    expect(p.details).toMatchObject({ version: 1, root: 'struct', encodings: ['vortex.primitive', 'vortex.varbinview'], layouts: ['vortex.struct', 'vortex.flat'], segments: 2 });
  });

  it('file statistics become per-field min/max/null counts (int64 beyond 2^53 kept exact as a string)', () => {
    expect(probes.flat_struct.details?.fieldStats).toEqual({
      id: { min: -3, minExact: true, max: '9007199254740993', maxExact: true, nullCount: 0, isSorted: true },
      name: { min: 'ant', minExact: true, max: 'zebra', maxExact: false, nullCount: 2 },
    });
    expect(probes.chunked_struct.details?.fieldStats).toMatchObject({ id: { min: 1, max: 12 }, price: { min: '-12.34', max: '999.99' } });
  });

  it('without a statistics segment there are no fieldStats', () => {
    expect(probes.flat_struct_no_stats.details).not.toHaveProperty('fieldStats');
    expect(probes.flat_struct_no_stats.units).toEqual(probes.flat_struct.units);
  });

  it('a chunked root gives one unit per chunk, with that chunk\'s segment bytes', () => {
    const segs = samples.chunked_struct.dataSegments.map((s) => s.length);
    expect(probes.chunked_struct.rows).toBe(12);
    expect(probes.chunked_struct.units).toEqual([
      { rows: 4, byteSize: segs[0]! + segs[1]! },
      { rows: 3, byteSize: segs[2]! + segs[3]! },
      { rows: 5, byteSize: segs[4]! + segs[5]! },
    ]);
  });

  it('the default writer shape (struct → zoned → dict → chunked) cuts units where every column has a chunk boundary', () => {
    const p = probes.default_writer_shape;
    expect(p.units.map((u) => u.rows)).toEqual([8, 4]);
    expect(sum(p.units.map((u) => u.byteSize))).toBe(sum(samples.default_writer_shape.dataSegments.map((s) => s.length)));
    expect(p.details?.layouts).toEqual(['vortex.struct', 'vortex.zoned', 'vortex.dict', 'vortex.flat', 'vortex.chunked']);
  });

  it('an empty file has no units', () => {
    expect(probes.empty.rows).toBe(0);
    expect(probes.empty.units).toEqual([]);
  });

  it('equal dtypes give the same Schema object', async () => {
    const again = await probeLocalFile(vortexScanner, samples.flat_struct.path);
    expect(again.schema).toBe(probes.flat_struct.schema);
    expect(probes.flat_struct_no_stats.schema).toBe(probes.flat_struct.schema);
  });
});

describe('nullable struct layouts', () => {
  it('accept a leading validity child (newer writers) and its absence (Vortex 0.36)', async () => {
    const dtype: FixtureDType = { kind: 'struct', fields: [['a', { kind: 'primitive', ptype: PType.I32 }]], nullable: true };
    for (const [name, children] of [['with', [flat(4, 1), flat(4, 4)]], ['without', [flat(4, 4)]]] as const) {
      const r = writeVortexFile({ dtype, layout: structOf(4, [...children]) });
      const file = path.join(dir, `validity-${name}.vortex`);
      fs.writeFileSync(file, r.bytes);
      const p = await probeLocalFile(vortexScanner, file);
      expect(p.units).toEqual([{ rows: 4, byteSize: sum(r.dataSegments.map((s) => s.length)) }]);
      expect(p.schema.fields.map((f) => f.name)).toEqual(['a']);
    }
  });
});

describe('mapping a non-struct root', () => {
  it('maps to one column named value, with units per chunk and its statistics', () => {
    const p = probes.non_struct_root;
    expect(p.rows).toBe(5);
    expect(p.units.map((u) => u.rows)).toEqual([3, 2]);
    expect(p.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([['value', 'Float64', true]]);
    expect(p.details).toMatchObject({ root: 'primitive', fieldStats: { value: { min: 0.5, max: 2.5, nullCount: 1 } } });
  });
});

describe('dtype → Arrow', () => {
  it('maps every dtype: nulls, bools, all widths, decimals, strings, lists, vectors, structs, extensions', () => {
    const types = Object.fromEntries(probes.all_types.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      n: 'Null', b: 'Bool', u8: 'Uint8', u16: 'Uint16', u32: 'Uint32', u64: 'Uint64', i8: 'Int8', i16: 'Int16', i32: 'Int32',
      i64: 'Int64', f16: 'Float16', f32: 'Float32', f64: 'Float64', dec: 'Decimal[10e+2]', wide_dec: 'Decimal[50e+5]',
      s: 'Utf8', bin: 'Binary', tags: 'List<Utf8>', vec: 'FixedSizeList[4]<Float32>', point: 'Struct<{x:Float64, label:Utf8}>',
      ts: 'Timestamp<MICROSECOND, UTC>', ts_ns: 'Timestamp<NANOSECOND>', day: 'Date32<DAY>', tod: 'Time64<NANOSECOND>',
      id: 'FixedSizeList[16]<Uint8>', var: 'Struct<{metadata:Binary, value:Binary}>',
    });
    const field = (n: string) => probes.all_types.schema.fields.find((f) => f.name === n)!;
    expect((field('wide_dec').type as { bitWidth: number }).bitWidth).toBe(256);
    expect(field('dec').nullable).toBe(false);
    expect(field('ts').nullable).toBe(true); // extension nullability is its storage's
    expect(field('id').metadata.get('vortex:extension:id')).toBe('vortex.uuid');
    expect(field('id').metadata.get('vortex:extension:metadata')).toBe(Buffer.of(4).toString('base64'));
  });
});

describe('unknown encodings and layouts', () => {
  it('are mapped without decoding data, and their ids are recorded', () => {
    const p = probes.unknown_encodings;
    expect(p.rows).toBe(7);
    expect(p.units.map((u) => u.rows)).toEqual([3, 4]);
    expect(p.details?.encodings).toEqual(['vortex.patched', 'acme.quantum', 'fastlanes.bitpacked']);
    expect(p.details?.layouts).toContain('acme.future_layout');
  });
});

describe('footers larger than the 64 KiB tail', () => {
  it('reads the footer segments with extra reads when they start before the tail', async () => {
    const fields: [string, FixtureDType][] = Array.from({ length: 1500 }, (_, i) => [`column_with_a_long_name_${i}_${'x'.repeat(40)}`, { kind: 'primitive', ptype: PType.I32 }]);
    const r = writeVortexFile({ dtype: { kind: 'struct', fields }, layout: structOf(3, fields.map(() => flat(3, 4))) });
    expect(r.bytes.length - Number(r.footerSegments.dtype!.offset)).toBeGreaterThan(65536);
    const file = path.join(dir, 'wide.vortex');
    fs.writeFileSync(file, r.bytes);
    const p = await probeLocalFile(vortexScanner, file);
    expect(p.rows).toBe(3);
    expect(p.schema.fields.length).toBe(1500);
    expect(p.schema.fields[1499]!.name).toBe(fields[1499]![0]);
    expect(p.units).toEqual([{ rows: 3, byteSize: sum(r.dataSegments.map((s) => s.length)) }]);
  });
});

describe('statistics scalars (protobuf ScalarValue)', () => {
  const i64: FixtureDType = { kind: 'primitive', ptype: PType.I64 };
  it('decodes integers, floats, null, f16 and lists to JSON-safe values', () => {
    expect(decodeScalar(scalarInt(-9007199254740993n), undefined)).toBe('-9007199254740993');
    expect(decodeScalar(scalarInt(-42n), undefined)).toBe(-42);
    expect(decodeScalar(scalarUint(18446744073709551615n), undefined)).toBe('18446744073709551615');
    expect(decodeScalar(scalarF64(Number.NaN), undefined)).toBe('NaN');
    expect(decodeScalar(scalarF64(-Infinity), undefined)).toBe('-Infinity');
    expect(decodeScalar(scalarNull(), undefined)).toBeNull();
    expect(decodeScalar(scalarF16(0x3c00), undefined)).toBe(1);
    expect(decodeScalar(scalarF16(0xc100), undefined)).toBe(-2.5);
    expect(decodeScalar(scalarList([scalarInt(1n), scalarNull()]), { kind: 'list', element: i64, nullable: false } as never)).toEqual([1, null]);
  });

  it('decodes decimals from little-endian two\'s complement with the scale', () => {
    const dec = { kind: 'decimal', precision: 20, scale: 3, nullable: false } as const;
    expect(decodeScalar(scalarDecimal(-5n, 8), dec)).toBe('-0.005');
    expect(decodeScalar(scalarDecimal(123456789012345678901234567n, 16), { ...dec, precision: 38 })).toBe('123456789012345678901234.567');
    expect(decimalString(Uint8Array.of(0x10), -2)).toBe('1600');
    expect(decimalString(Uint8Array.of(0), 2)).toBe('0.00');
  });
});
