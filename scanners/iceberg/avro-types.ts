/**
 * The avsc types lakemap decodes Iceberg Avro with. Two avsc traps are handled: longs become BigInt
 * (snapshot ids exceed 2^53; some writers spell longs `{"type":"long"}` inside unions, which a registry
 * entry misses, hence the typeHook), and array/map block counts are checked against the remaining bytes,
 * when read and when skipped, so a corrupt count cannot spin.
 */
import avro from 'avsc';

/** Minimal view of avsc's internal reader, used by the bounded array/map readers below. */
export interface Tap {
  buf: Uint8Array;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}
interface ReadableType {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}
type TypeCtor = new (schema?: unknown, opts?: unknown) => object;

const avroTypes = avro.types as unknown as { ArrayType: TypeCtor; MapType: TypeCtor; LongType: TypeCtor };

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

/** Array type whose block counts may not exceed the remaining bytes, when read and when skipped. */
class BoundedArrayType extends avroTypes.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = (this as unknown as { itemsType: ReadableType }).itemsType;
    const out: unknown[] = [];
    readBlocks(tap, () => out.push(items._read(tap)));
    return out;
  }

  // avsc's own skip loops over any count: a projection skips unneeded arrays, so this one is bounded too.
  _skip(tap: Tap): void {
    const items = (this as unknown as { itemsType: ReadableType }).itemsType;
    readBlocks(tap, () => items._skip(tap));
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

  _skip(tap: Tap): void {
    const values = (this as unknown as { valuesType: ReadableType }).valuesType;
    readBlocks(tap, () => {
      tap.skipString();
      values._skip(tap);
    });
  }
}

/** 2^49: up to 7 varint bytes (49 bits) add up exactly in a double. */
const EXACT_VARINT = 2 ** 49;

/**
 * Reads one zigzag varint long as a BigInt, straight from the bytes: avsc's custom-long path packs every
 * long into a fresh 8-byte Buffer first, which was most of the decoding time of a manifest. Past the end
 * of the bytes the tap is left invalid (avsc then reports truncation) and undefined is returned.
 */
export function readBigintLong(tap: Tap): bigint | undefined {
  const buf = tap.buf;
  let pos = tap.pos;
  let b = buf[pos++]!; // undefined past the end: & gives 0 and the loop stops
  let n = b & 0x7f;
  let scale = 128;
  while (b & 0x80 && scale < EXACT_VARINT) {
    b = buf[pos++]!;
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  let value: bigint;
  if (b & 0x80) {
    // 8 to 10 bytes: |value| ≥ 2^48, rare (snapshot ids); the continuation is bounded by the buffer.
    let v = BigInt(n);
    let shift = 49n;
    do {
      b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    value = BigInt.asIntN(64, (v >> 1n) ^ -(v & 1n));
  } else {
    value = BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
  }
  tap.pos = pos;
  return pos > buf.length ? undefined : value;
}

/** Avro long read as BigInt (snapshot ids exceed 2^53), by `readBigintLong`; skipping is avsc's. */
class BigintLongType extends avroTypes.LongType {
  _read(tap: Tap): bigint | undefined {
    return readBigintLong(tap);
  }
}

/** The one BigInt long type every schema's longs resolve to (avsc types are immutable, so it is shared). */
const bigintLong = new BigintLongType() as unknown as avro.Type;

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

