// lakemap's own Avro long reader and projected decoding (only the fields a manifest needs), checked
// against avsc's plain decoding of the same bytes; bad input must end as CORRUPT_FILE, fast.
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/scanner.js';
import { readAvroContainer } from '../scanners/iceberg/avro.js';
import { projectSchema, recordDecoder } from '../scanners/iceberg/avro-projection.js';
import { readBigintLong, type Tap } from '../scanners/iceberg/avro-types.js';
import { MANIFEST_ENTRY_FIELDS } from '../scanners/iceberg/manifests.js';
import { writeAvroContainer } from '../fixtures/iceberg/avro-writer.js';
import { manifestEntrySchema } from '../fixtures/iceberg/avro-schemas.js';

/** Zigzag varint of a signed 64-bit value, written here from the Avro spec. */
function zigzagVarint(v: bigint): number[] {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

function tapOf(bytes: number[]): Tap {
  return { buf: Uint8Array.from(bytes), pos: 0 } as Tap;
}

const EDGES = [
  0n, 1n, -1n, 63n, -64n, 64n, -65n, 2n ** 31n, -(2n ** 31n), 2n ** 48n - 1n, 2n ** 48n, -(2n ** 48n), -(2n ** 48n) - 1n,
  2n ** 49n, -(2n ** 49n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 9158179788527662767n, 2n ** 63n - 1n, -(2n ** 63n),
];

describe('readBigintLong', () => {
  it('reads every width of varint exactly, small and beyond 2^53', () => {
    for (const v of EDGES) {
      const bytes = zigzagVarint(v);
      const tap = tapOf([...bytes, 0x55]);
      expect(readBigintLong(tap), String(v)).toBe(v);
      expect(tap.pos, String(v)).toBe(bytes.length);
    }
  });

  it('a varint cut short leaves the tap past the end and gives undefined', () => {
    for (const v of [300n, 2n ** 50n, -(2n ** 63n)]) {
      const bytes = zigzagVarint(v).slice(0, -1);
      const tap = tapOf(bytes);
      expect(readBigintLong(tap)).toBeUndefined();
      expect(tap.pos).toBeGreaterThan(bytes.length);
    }
  });

  it('agrees with avsc-encoded longs inside records and unions', () => {
    const schema = { type: 'record', name: 'r', fields: [{ name: 'a', type: 'long' }, { name: 'b', type: ['null', 'long'] }] };
    const records = EDGES.map((v, i) => ({ a: v, b: i % 2 ? null : -v }));
    const { records: out } = readAvroContainer(writeAvroContainer(schema, records, {}, 'null'), 'longs.avro');
    expect(out).toEqual(records.map((r) => ({ a: r.a, b: r.b })));
  });
});

const wideSchema = {
  type: 'record', name: 'entry', fields: [
    { name: 'keep', type: 'long' },
    { name: 'xs', type: { type: 'array', items: 'long' } },
    { name: 'm', type: { type: 'map', values: 'string' } },
    { name: 'inner', type: ['null', { type: 'record', name: 'inner_r', fields: [
      { name: 'a', type: 'string' }, { name: 'drop', type: 'bytes' }, { name: 'b', type: 'int' }] }] },
    { name: 'tail', type: 'string' },
  ],
};
const KEEP = { keep: true, inner: { a: true, b: true }, tail: true } as const;

describe('projected decoding', () => {
  it('keeps the named fields, nested through unions, and skips the rest', () => {
    const records = [
      { keep: 2n ** 60n, xs: [1n, 2n, 3n], m: { k: 'v' }, inner: { a: 'x', drop: Buffer.from('zz'), b: 7 }, tail: 'end' },
      { keep: -5n, xs: [], m: {}, inner: null, tail: '' },
    ];
    const file = writeAvroContainer(wideSchema, records, {}, 'deflate', 1);
    const { records: out } = readAvroContainer(file, 'wide.avro', KEEP);
    expect(out).toEqual([{ keep: 2n ** 60n, inner: { a: 'x', b: 7 }, tail: 'end' }, { keep: -5n, inner: null, tail: '' }]);
    // Unprojected, the same file decodes whole.
    expect(readAvroContainer(file, 'wide.avro').records).toEqual(records);
  });

  it('projectSchema leaves non-record schemas and unknown fields alone', () => {
    expect(projectSchema('long', KEEP)).toBe('long');
    const projected = projectSchema(wideSchema, { tail: true, nothing: true }) as { fields: { name: string }[] };
    expect(projected.fields.map((f) => f.name)).toEqual(['tail']);
  });

  it('a schema the projection cannot cut is decoded whole, with the same values', () => {
    // `pair` is defined inside the left-out field and referenced by name in the kept one.
    const schema = {
      type: 'record', name: 'e', fields: [
        { name: 'dropped', type: { type: 'record', name: 'pair', fields: [{ name: 'k', type: 'int' }] } },
        { name: 'kept', type: 'pair' },
      ],
    };
    const records = [{ dropped: { k: 1 }, kept: { k: 2 } }];
    const { records: out } = readAvroContainer(writeAvroContainer(schema, records, {}, 'null'), 'named.avro', { kept: true });
    expect(out).toEqual(records);
    // Cached per projection: asking again gives the same decoder.
    const text = JSON.stringify(schema);
    expect(recordDecoder(text, 'named.avro', { kept: true })).not.toBe(recordDecoder(text, 'named.avro'));
    expect(recordDecoder(text, 'named.avro')).toBe(recordDecoder(text, 'named.avro'));
  });

  it('an invalid writer schema is CORRUPT_FILE with or without a projection', () => {
    for (const keep of [undefined, KEEP]) {
      expect(() => recordDecoder('{"type":"record","name":"x","fields":[{"name":"a","type":"nope"}]}', 'bad.avro', keep)).toThrow(/bad\.avro: invalid Avro writer schema/);
    }
  });

  it('a huge count in a skipped array or map fails fast instead of spinning', () => {
    const schema = { type: 'record', name: 'r', fields: [{ name: 'xs', type: { type: 'array', items: 'long' } }, { name: 'm', type: { type: 'map', values: 'long' } }, { name: 'keep', type: 'int' }] };
    const good = writeAvroContainer(schema, [{ xs: [1n], m: { a: 1n }, keep: 3 }], {}, 'null');
    expect(readAvroContainer(good, 'ok.avro', { keep: true }).records).toEqual([{ keep: 3 }]);
    const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]; // 2^40 (zigzag)
    for (const body of [[...huge, 2, 0, 0, 6], [0, ...huge, 2, 0x61, 2, 0, 6]]) {
      const file = withOneRecord(good, body);
      expect(() => readAvroContainer(file, 'bomb.avro', { keep: true })).toThrow(/bomb\.avro: Avro record 0 runs past the end/);
    }
  });

  it('random corruption of a projected manifest gives CORRUPT_FILE or the kept fields, never another error', () => {
    const partition = [{ name: 'day', fieldId: 1000, avroType: ['null', 'int'] }];
    const entries = Array.from({ length: 30 }, (_, i) => ({
      status: 1, snapshot_id: 5n, sequence_number: null, file_sequence_number: null,
      data_file: {
        content: 0, file_path: `data/f${i}.parquet`, file_format: 'PARQUET', partition: { day: 19000 + i }, record_count: BigInt(10 + i), file_size_in_bytes: 100n,
        value_counts: [{ key: 1, value: 3n }], null_value_counts: [{ key: 1, value: 0n }], lower_bounds: [{ key: 1, value: Buffer.from([1, 0, 0, 0]) }],
        upper_bounds: null, split_offsets: [4n], equality_ids: null, referenced_data_file: null, content_offset: null, content_size_in_bytes: null,
      },
    }));
    const original = writeAvroContainer(manifestEntrySchema(partition), entries, {}, 'null', 10);
    const decoded = readAvroContainer(original, 'm.avro', MANIFEST_ENTRY_FIELDS).records as { data_file: Record<string, unknown> }[];
    expect(decoded[3]!.data_file['value_counts']).toBeUndefined();
    expect(decoded[3]!.data_file['null_value_counts']).toEqual([{ key: 1, value: 0n }]);
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let failed = 0;
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(original);
      for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const input = i % 7 === 0 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      try {
        readAvroContainer(input, 'm.avro', MANIFEST_ENTRY_FIELDS);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(LakemapError);
        expect((e as LakemapError).code === 'CORRUPT_FILE' || (e as LakemapError).code === 'UNSUPPORTED', String(e)).toBe(true);
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(50);
  });
});

/** `file` (a container with one single-record block) with that record's bytes replaced by `body`. */
function withOneRecord(file: Buffer, body: number[]): Buffer {
  // The last block is: count (1 → 0x02), size, data, 16-byte sync.
  const sync = file.subarray(file.length - 16);
  const headerEnd = file.indexOf(sync) + 16;
  return Buffer.concat([file.subarray(0, headerEnd), Buffer.from([2, ...zigzagVarint(BigInt(body.length))]), Buffer.from(body), sync]);
}
