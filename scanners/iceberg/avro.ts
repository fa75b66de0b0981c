/**
 * Avro object container files (Iceberg manifest lists and manifests), decoded with avsc.
 *
 * The container framing (magic, header map, blocks, sync markers) is read here so that every length is
 * checked against the bytes at hand before use; records are decoded by avsc from the writer schema in
 * the header. Two avsc traps are handled: longs become BigInt (snapshot ids exceed 2^53; some writers
 * spell longs `{"type":"long"}` inside unions, which a registry entry misses, hence the typeHook), and
 * array/map block counts are checked against the remaining bytes so a corrupt count cannot spin.
 */
import * as zlib from 'node:zlib';
import avro from 'avsc';
import { corruptFile, LakemapError } from '../../src/scanner.js';
import { snappyUncompress } from './snappy.js';
import { zstdUncompress } from './zstd.js';

/** The decoded contents of one Avro object container file. */
export interface AvroContainer {
  /** Header metadata (`avro.schema`, `avro.codec`, and Iceberg keys such as `partition-spec`), as UTF-8. */
  metadata: Map<string, string>;
  /** Every record, as avsc decodes it (records are objects; longs are bigint; `["null", T]` unions are unwrapped). */
  records: unknown[];
}

/** Upper bound for one decompressed block; a larger block is treated as corrupt rather than allocated. */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;
const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj" 1

/** Minimal view of avsc's internal reader, used by the bounded array/map readers below. */
interface Tap {
  buf: Uint8Array;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}
interface ReadableType {
  _read(tap: Tap): unknown;
}
type TypeCtor = new (schema: unknown, opts: unknown) => object;

const avroTypes = avro.types as unknown as { ArrayType: TypeCtor; MapType: TypeCtor };

/** Marks the tap invalid so avsc's `decode` reports truncation (offset -1) and every loop stops. */
function exhaust(tap: Tap): void {
  tap.pos = tap.buf.length + 1;
}

/**
 * Reads Avro blocks (a count, then that many items) until the empty block. A count larger than the
 * bytes left cannot be honest (every item takes at least one byte): the tap is exhausted instead, so
 * avsc reports a truncated record rather than looping for a very long time.
 */
function readBlocks(tap: Tap, readItem: () => void): void {
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong(); // block size in bytes, not needed
    }
    if (n > tap.buf.length - tap.pos) {
      exhaust(tap);
      return;
    }
    while (n--) readItem();
  }
}

/** Array type whose block counts may not exceed the remaining bytes. */
class BoundedArrayType extends avroTypes.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = (this as unknown as { itemsType: ReadableType }).itemsType;
    const out: unknown[] = [];
    readBlocks(tap, () => out.push(items._read(tap)));
    return out;
  }
}

/** Map type with the same bounded block counts. */
class BoundedMapType extends avroTypes.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = (this as unknown as { valuesType: ReadableType }).valuesType;
    const out: Record<string, unknown> = {};
    readBlocks(tap, () => {
      const key = tap.readString();
      out[key] = values._read(tap);
    });
    return out;
  }
}

/** Avro long as BigInt. Numbers are accepted on write so fixture code can pass small values plainly. */
export const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/**
 * Fresh avsc options (avsc keeps named types in `opts.registry`, so options must not be shared between
 * unrelated schemas) that give BigInt longs and bounded arrays/maps.
 */
export function avroTypeOptions(): { registry: Record<string, avro.Type>; typeHook: typeof typeHook } {
  return { registry: {}, typeHook };
}

function typeHook(schema: unknown, opts: unknown): avro.Type | undefined {
    if (schema === 'long') return bigintLong;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
    const s = schema as { type?: unknown; logicalType?: unknown };
    if (s.type === 'long' && s.logicalType === undefined) return bigintLong;
    if (s.type === 'array') return new BoundedArrayType(schema, opts) as unknown as avro.Type;
  if (s.type === 'map') return new BoundedMapType(schema, opts) as unknown as avro.Type;
  return undefined;
}

const typeCache = new Map<string, avro.Type>();

/** The avsc type of a writer schema, cached by schema text (manifests of one writer share it). */
export function avroTypeOf(schemaText: string, path: string): avro.Type {
  let type = typeCache.get(schemaText);
  if (type) return type;
  try {
    type = avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema, avroTypeOptions());
  } catch (e) {
    throw corruptFile(path, `invalid Avro writer schema (${(e as Error).message})`, e);
  }
  if (typeCache.size > 64) typeCache.clear();
  typeCache.set(schemaText, type);
  return type;
}

/** Reads zigzag varints of the container framing; every read is bounds-checked. */
class FrameReader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly path: string) {}

  long(what: string): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= this.bytes.length) throw corruptFile(this.path, `Avro file truncated while reading ${what}`);
      if (shift > 49) throw corruptFile(this.path, `Avro varint too long while reading ${what}`);
      const b = this.bytes[this.pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  take(length: number, what: string): Uint8Array {
    if (length < 0 || length > this.bytes.length - this.pos) {
      throw corruptFile(this.path, `Avro file truncated: ${what} needs ${length} bytes, ${this.bytes.length - this.pos} left`);
    }
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

function readHeader(r: FrameReader): Map<string, string> {
  const magic = r.take(4, 'the magic');
  if (MAGIC.some((b, i) => magic[i] !== b)) throw corruptFile(r.path, 'not an Avro object container file (bad magic)');
  const meta = new Map<string, string>();
  const decoder = new TextDecoder();
  for (;;) {
    let count = r.long('the header map');
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      r.long('a header block size');
    }
    if (count > r.bytes.length - r.pos) throw corruptFile(r.path, `Avro header claims ${count} entries`);
    for (let i = 0; i < count; i++) {
      const key = decoder.decode(r.take(r.long('a header key length'), 'a header key'));
      meta.set(key, decoder.decode(r.take(r.long('a header value length'), 'a header value')));
    }
  }
  return meta;
}

function decompress(codec: string, block: Uint8Array, path: string): Uint8Array {
  try {
    switch (codec) {
      case 'null':
        return block;
      case 'deflate':
        return zlib.inflateRawSync(block, { maxOutputLength: MAX_BLOCK_BYTES });
      case 'snappy': {
        // The block is the snappy payload followed by a 4-byte CRC32 of the uncompressed bytes.
        if (block.length < 4) throw new Error('snappy block shorter than its checksum');
        return snappyUncompress(block.subarray(0, block.length - 4), MAX_BLOCK_BYTES);
      }
      case 'zstandard': // the Avro spec's name; `zstd` is what some writers put
      case 'zstd':
        return zstdUncompress(block, MAX_BLOCK_BYTES);
      default:
        throw new LakemapError('UNSUPPORTED', `${path}: Avro codec '${codec}' is not supported (null, deflate, snappy, zstandard are)`, { path });
    }
  } catch (e) {
    if (LakemapError.is(e)) throw e;
    throw corruptFile(path, `cannot decompress an Avro block with codec ${codec} (${(e as Error).message})`, e);
  }
}

/**
 * Decodes a whole Avro object container file. Throws `CORRUPT_FILE` naming `path` for bad magic,
 * truncation, a sync marker mismatch or records that do not fit their block; `UNSUPPORTED` for codecs
 * other than null, deflate, snappy and zstandard.
 */
export function readAvroContainer(bytes: Uint8Array, path: string): AvroContainer {
  const r = new FrameReader(bytes, path);
  const metadata = readHeader(r);
  const sync = r.take(16, 'the sync marker');
  const schemaText = metadata.get('avro.schema');
  if (schemaText === undefined) throw corruptFile(path, 'Avro header has no avro.schema');
  const codec = metadata.get('avro.codec') ?? 'null';
  const type = avroTypeOf(schemaText, path);
  const records: unknown[] = [];
  while (r.pos < bytes.length) {
    const count = r.long('a block count');
    const size = r.long('a block size');
    if (count < 0 || size < 0) throw corruptFile(path, `negative Avro block count or size at byte ${r.pos}`);
    const block = Buffer.from(decompress(codec, r.take(size, 'a data block'), path));
    if (count > block.length && block.length > 0) throw corruptFile(path, `Avro block claims ${count} records in ${block.length} bytes`);
    const marker = r.take(16, 'a block sync marker');
    if (marker.some((b, i) => b !== sync[i])) throw corruptFile(path, `Avro sync marker mismatch at byte ${r.pos - 16}`);
    let pos = 0;
    for (let i = 0; i < count; i++) {
      let decoded: { value: unknown; offset: number };
      try {
        decoded = type.decode(block, pos);
      } catch (e) {
        throw corruptFile(path, `cannot decode Avro record ${records.length} (${(e as Error).message})`, e);
      }
      if (decoded.offset < 0) throw corruptFile(path, `Avro record ${records.length} runs past the end of its block`);
      pos = decoded.offset;
      records.push(decoded.value);
    }
  }
  return { metadata, records };
}
