// The Avro object container reader on hand-made files (issue 15, mutation testing): the framing is
// written here byte by byte and the records by plain avsc, so nothing comes from lakemap's reader. Every
// malformed file must fail with CORRUPT_FILE (UNSUPPORTED for an unknown codec) naming the file and the
// reason; valid ones (every codec, several blocks, negative block counts, maps) decode to what was written.
import * as zlib from 'node:zlib';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/scanner.js';
import { readAvroContainer } from '../scanners/iceberg/avro.js';
import { varint, writeAvroContainer, zstdRawFrame } from '../fixtures/iceberg/avro-writer.js';

const long = varint; // Avro `long`
const str = (s: string): Buffer => Buffer.concat([long(Buffer.byteLength(s)), Buffer.from(s)]);
const SYNC = Buffer.from('0123456789abcdef');
const MAGIC = Buffer.from('Obj\x01', 'latin1');

/** A header map written as one block of `entries` (or as given in `raw`), then the sync marker. */
function header(entries: Record<string, string>, raw?: Buffer): Buffer {
  const kv = Object.entries(entries).flatMap(([k, v]) => [str(k), str(v)]);
  return Buffer.concat([MAGIC, raw ?? Buffer.concat([long(kv.length / 2), ...kv, long(0)]), SYNC]);
}
/** One data block: count, size, bytes, sync. */
const block = (count: number, data: Buffer, sync = SYNC): Buffer => Buffer.concat([long(count), long(data.length), data, sync]);

const intsSchema = { type: 'record', name: 'r', fields: [{ name: 'xs', type: { type: 'array', items: 'int' } }] };
const mapSchema = { type: 'record', name: 'm', fields: [{ name: 'm', type: { type: 'map', values: 'int' } }] };
const schemaOf = (s: object) => ({ 'avro.schema': JSON.stringify(s) });

function failure(bytes: Uint8Array, file = 'dir/bad.avro'): LakemapError {
  let err: unknown;
  try {
    readAvroContainer(bytes, file);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LakemapError);
  const e = err as LakemapError;
  expect(e.path).toBe(file);
  expect(e.message).toContain(file);
  return e;
}

describe('Avro container files: valid ones', () => {
  const schema = {
    type: 'record',
    name: 'entry',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'big', type: ['null', 'long'] },
      { name: 'name', type: 'string' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'props', type: { type: 'map', values: 'long' } },
    ],
  };
  const records = Array.from({ length: 7 }, (_, i) => ({
    id: BigInt(i),
    big: i % 2 ? 9158179788527662767n + BigInt(i) : null,
    name: `n${i}`,
    tags: Array.from({ length: i }, (_, k) => `t${k}`),
    props: Object.fromEntries(Array.from({ length: i % 3 }, (_, k) => [`k${k}`, BigInt(k) * 2n ** 60n])),
  }));

  for (const codec of ['null', 'deflate', 'snappy', 'zstandard-raw'] as const) {
    it(`decodes every record of several ${codec} blocks, longs as exact bigints`, () => {
      const file = writeAvroContainer(schema, records, { 'iceberg.key': 'value é' }, codec, 3);
      const got = readAvroContainer(file, 'x.avro');
      expect(got.records).toEqual(records);
      expect(got.metadata.get('iceberg.key')).toBe('value é');
      expect(got.metadata.get('avro.codec')).toBe(codec === 'zstandard-raw' ? 'zstandard' : codec);
    });
  }

  it('reads a file with no codec key as uncompressed, and one with no blocks as empty', () => {
    const type = avro.Type.forSchema(intsSchema as avro.Schema);
    const data = Buffer.concat([type.toBuffer({ xs: [1, 2] }), type.toBuffer({ xs: [] })]);
    expect(readAvroContainer(Buffer.concat([header(schemaOf(intsSchema)), block(2, data)]), 'x.avro').records).toEqual([{ xs: [1, 2] }, { xs: [] }]);
    expect(readAvroContainer(header(schemaOf(intsSchema)), 'x.avro').records).toEqual([]);
  });

  it('takes header maps and array/map blocks written with negative counts (a byte size follows)', () => {
    const kv = [str('avro.schema'), str(JSON.stringify(intsSchema)), str('k'), str('v')];
    // Two header blocks: one entry with a negative count and its byte size, then one plain.
    const rawHeader = Buffer.concat([long(-1), long(kv[0]!.length + kv[1]!.length), kv[0]!, kv[1]!, long(1), kv[2]!, kv[3]!, long(0)]);
    // xs: a block of -2 items (size 2 bytes) then a block of 1 item: [2, 3, 4].
    const record = Buffer.concat([long(-2), long(2), long(2), long(3), long(1), long(4), long(0)]);
    const got = readAvroContainer(Buffer.concat([header({}, rawHeader), block(1, record)]), 'x.avro');
    expect(got.metadata.get('k')).toBe('v');
    expect(got.records).toEqual([{ xs: [2, 3, 4] }]);

    const mapRecord = Buffer.concat([long(-1), long(3), str('a'), long(5), long(1), str('b'), long(6), long(0)]);
    expect(readAvroContainer(Buffer.concat([header(schemaOf(mapSchema)), block(1, mapRecord)]), 'm.avro').records).toEqual([{ m: { a: 5, b: 6 } }]);
  });

  it('reads longs as exact bigints, also spelled {"type":"long"} in a union; a long with a logical type as avsc does (a number)', () => {
    const s = {
      type: 'record',
      name: 't',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'n', type: 'long' },
        { name: 'u', type: ['null', { type: 'long' }] },
        { name: 'o', type: { type: 'long' } },
      ],
    };
    const data = Buffer.concat([long(1_700_000_000), long(5), long(1), long(2 ** 60), long(-5)]);
    const got = readAvroContainer(Buffer.concat([header(schemaOf(s)), block(1, data)]), 'x.avro');
    expect(got.records).toEqual([{ at: 1_700_000_000, n: 5n, u: 2n ** 60n, o: -5n }]);
  });
});

describe('Avro container files: malformed ones fail with CORRUPT_FILE, the file and the reason', () => {
  const good = Buffer.concat([header(schemaOf(intsSchema)), block(1, Buffer.concat([long(1), long(7), long(0)]))]);

  it('the good file of these cases reads', () => {
    expect(readAvroContainer(good, 'x.avro').records).toEqual([{ xs: [7] }]);
  });

  it('bad magic, truncated magic, a truncated header', () => {
    const bad = Buffer.from(good);
    bad[3] = 2;
    expect(failure(bad).message).toMatch(/not an Avro object container file \(bad magic\)/);
    expect(failure(good.subarray(0, 3)).message).toMatch(/truncated: the magic needs 4 bytes, 3 left/);
    expect(failure(good.subarray(0, 4)).message).toMatch(/truncated while reading the header map/);
    expect(failure(good.subarray(0, 20)).code).toBe('CORRUPT_FILE');
    // Everything up to the sync marker, but not all of it.
    const headerLength = header(schemaOf(intsSchema)).length;
    expect(failure(good.subarray(0, headerLength - 1)).message).toMatch(/the sync marker needs 16 bytes, 15 left/);
  });

  it('a varint longer than a long, a header claiming more entries than bytes, a negative length', () => {
    expect(failure(Buffer.concat([MAGIC, Buffer.alloc(8, 0xff), Buffer.from([1])])).message).toMatch(/varint too long while reading the header map/);
    // Seven continuation bytes and an end byte (8 bytes, 56 bits) is still a varint: 2^49, zigzag 2^48 entries.
    expect(failure(Buffer.concat([MAGIC, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])])).message).toMatch(/Avro header claims 281474976710656 entries/);
    expect(failure(Buffer.concat([MAGIC, long(1000), str('a'), str('b')])).message).toMatch(/Avro header claims 1000 entries/);
    expect(failure(Buffer.concat([MAGIC, long(-1000), long(5), str('a'), str('b')])).message).toMatch(/Avro header claims 1000 entries/);
    expect(failure(Buffer.concat([MAGIC, long(1), long(-1), str('b'), long(0), SYNC])).message).toMatch(/a header key needs -1 bytes/);
    expect(failure(Buffer.concat([MAGIC, long(1), str('avro.schema'), long(500), long(0), SYNC])).message).toMatch(/a header value needs 500 bytes/);
  });

  it('a header cut inside a varint (block size, key length, value length) names what was being read', () => {
    expect(failure(Buffer.concat([MAGIC, long(-1)])).message).toMatch(/Avro file truncated while reading a header block size/);
    // a key or value length varint cut after its continuation byte
    expect(failure(Buffer.concat([MAGIC, long(1), Buffer.from([0x80])])).message).toMatch(/truncated while reading a header key length/);
    expect(failure(Buffer.concat([MAGIC, long(1), str('k'), Buffer.from([0x80])])).message).toMatch(/truncated while reading a header value length/);
  });

  it('a header count that fits exactly in the bytes left is read', () => {
    // One entry, key and value empty strings: count 1 then 2 bytes of lengths and the end: 3 bytes left after the count.
    const raw = Buffer.concat([long(2), str('avro.schema'), str(JSON.stringify(intsSchema)), str(''), str(''), long(0)]);
    expect(readAvroContainer(header({}, raw), 'x.avro').metadata.get('')).toBe('');
  });

  it('no writer schema, or one avsc refuses', () => {
    expect(failure(header({ 'avro.codec': 'null' })).message).toMatch(/Avro header has no avro\.schema/);
    expect(failure(header({ 'avro.schema': '{"type":' })).message).toMatch(/invalid Avro writer schema/);
    expect(failure(header({ 'avro.schema': '{"type":"nosuchtype"}' })).message).toMatch(/invalid Avro writer schema/);
  });

  it('an unknown codec is UNSUPPORTED, naming it', () => {
    const e = failure(Buffer.concat([header({ ...schemaOf(intsSchema), 'avro.codec': 'bzip2' }), block(1, Buffer.from([2, 14, 0]))]));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/Avro codec 'bzip2' is not supported/);
  });

  it('blocks that do not decompress', () => {
    const withCodec = (codec: string, data: Buffer) => Buffer.concat([header({ ...schemaOf(intsSchema), 'avro.codec': codec }), block(1, data)]);
    expect(failure(withCodec('deflate', Buffer.from('not deflate at all'))).message).toMatch(/cannot decompress an Avro block with codec deflate/);
    expect(failure(withCodec('snappy', Buffer.from([1, 2, 3]))).message).toMatch(/codec snappy \(snappy block shorter than its checksum\)/);
    expect(failure(withCodec('zstandard', Buffer.from('not a zstd frame'))).message).toMatch(/codec zstandard/);
    expect(failure(withCodec('zstd', Buffer.from('not a zstd frame'))).message).toMatch(/codec zstd/);
    // What decompresses right decodes: a raw zstd frame under either name, and a deflate block.
    const record = Buffer.from([2, 14, 0]);
    for (const [codec, data] of [['zstd', zstdRawFrame(record)], ['zstandard', zstdRawFrame(record)], ['deflate', zlib.deflateRawSync(record)]] as const) {
      expect(readAvroContainer(withCodec(codec, data), 'x.avro').records, codec).toEqual([{ xs: [7] }]);
    }
  });

  it('a deflate block that inflates past the block limit is refused, not allocated', () => {
    // 300 MiB of zeros (the limit is 256 MiB) in 1.3 MiB: one MiB deflated with a sync flush (byte-aligned,
    // not final) repeated 300 times, then an empty final block.
    const mib = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const bomb = Buffer.concat([...Array<Buffer>(300).fill(mib), Buffer.from([3, 0])]);
    const e = failure(Buffer.concat([header({ ...schemaOf(intsSchema), 'avro.codec': 'deflate' }), block(1, bomb)]));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/cannot decompress an Avro block with codec deflate/);
  });

  it('a block of zero records (size 0) between others is read as none', () => {
    const h = header(schemaOf(intsSchema));
    const one = Buffer.concat([long(1), long(7), long(0)]);
    expect(readAvroContainer(Buffer.concat([h, block(1, one), block(0, Buffer.alloc(0)), block(1, one)]), 'x.avro').records).toEqual([{ xs: [7] }, { xs: [7] }]);
  });

  it('records of a schema with no fields take no bytes: a block of them reads as that many empty records', () => {
    const empty = { type: 'record', name: 'e', fields: [] };
    expect(readAvroContainer(Buffer.concat([header(schemaOf(empty)), block(2, Buffer.alloc(0))]), 'e.avro').records).toEqual([{}, {}]);
  });

  it('negative block counts or sizes, a truncated block, a sync marker mismatch', () => {
    const h = header(schemaOf(intsSchema));
    expect(failure(Buffer.concat([h, long(-1), long(3), Buffer.from([2, 14, 0]), SYNC])).message).toMatch(/negative Avro block count or size at byte/);
    expect(failure(Buffer.concat([h, long(1), long(-3), Buffer.from([2, 14, 0]), SYNC])).message).toMatch(/negative Avro block count or size/);
    expect(failure(Buffer.concat([h, long(1), long(30), Buffer.from([2, 14, 0]), SYNC])).message).toMatch(/a data block needs 30 bytes/);
    expect(failure(Buffer.concat([h, long(1)])).message).toMatch(/truncated while reading a block size/);
    // a block count varint whose continuation byte is the file's last
    expect(failure(Buffer.concat([h, Buffer.from([0x80])])).message).toMatch(/truncated while reading a block count/);
    const wrongSync = Buffer.from(SYNC);
    wrongSync[15] = 0;
    const e = failure(Buffer.concat([h, block(1, Buffer.from([2, 14, 0]), wrongSync)]));
    expect(e.message).toMatch(new RegExp(`Avro sync marker mismatch at byte ${h.length + 5}`));
    expect(failure(Buffer.concat([h, long(1), long(3), Buffer.from([2, 14, 0]), SYNC.subarray(0, 8)])).message).toMatch(/a block sync marker needs 16 bytes, 8 left/);
  });

  it('a block claiming more records than it has bytes; records past the block; records that do not decode', () => {
    const h = header(schemaOf(intsSchema));
    expect(failure(Buffer.concat([h, block(4, Buffer.from([2, 14, 0]))])).message).toMatch(/Avro block claims 4 records in 3 bytes/);
    // As many records claimed as bytes: allowed by the count check, then the second record runs out.
    expect(failure(Buffer.concat([h, block(3, Buffer.from([2, 14, 0]))])).message).toMatch(/Avro record 1 runs past the end of its block/);
    // An empty block claiming records: nothing to decode.
    expect(failure(Buffer.concat([h, block(2, Buffer.alloc(0))])).message).toMatch(/Avro record 0 runs past the end of its block/);
    // An array whose count claims more items than bytes are left, and a map likewise: refused at once.
    expect(failure(Buffer.concat([h, block(1, Buffer.concat([long(50), long(1), long(0)]))])).message).toMatch(/Avro record 0 runs past the end/);
    expect(failure(Buffer.concat([h, block(1, Buffer.concat([long(-50), long(2), long(1), long(0)]))])).message).toMatch(/Avro record 0 runs past the end/);
    const hm = header(schemaOf(mapSchema));
    expect(failure(Buffer.concat([hm, block(1, Buffer.concat([long(40), str('a'), long(1), long(0)]))])).message).toMatch(/Avro record 0 runs past the end/);
    // A union branch index that does not exist.
    const u = { type: 'record', name: 'u', fields: [{ name: 'x', type: ['null', 'int'] }] };
    expect(failure(Buffer.concat([header(schemaOf(u)), block(1, Buffer.from([long(7)[0]!, 2]))])).message).toMatch(/cannot decode Avro record 0/);
  });
});
