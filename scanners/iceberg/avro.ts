/**
 * Avro object container files (Iceberg manifest lists and manifests), decoded with avsc.
 *
 * The container framing (magic, header map, blocks, sync markers) is read here so that every length is
 * checked against the bytes at hand before use; records are decoded by avsc from the writer schema in
 * the header (see avro-types.ts for BigInt longs and bounded arrays), optionally projected onto the
 * fields the caller needs (avro-projection.ts).
 */
import * as zlib from 'node:zlib';
import { corruptFile, LakemapError } from '../../src/scanner.js';
import { recordDecoder, type AvroProjection } from './avro-projection.js';
import { snappyUncompress } from './snappy.js';
import { zstdUncompress } from './zstd.js';

/** The decoded contents of one Avro object container file. */
export interface AvroContainer {
  /** Header metadata (`avro.schema`, `avro.codec`, and Iceberg keys such as `partition-spec`), as UTF-8. */
  metadata: Map<string, string>;
  /**
   * Every record, as avsc decodes it (records are objects; longs are bigint; `["null", T]` unions are
   * unwrapped), with only the projected fields when a projection was given.
   */
  records: unknown[];
}

/** Upper bound for one decompressed block; a larger block is treated as corrupt rather than allocated. */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;
const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj" 1

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
 * other than null, deflate, snappy and zstandard. With `projection`, records hold only those fields
 * (the others are skipped, still bounds-checked).
 */
export function readAvroContainer(bytes: Uint8Array, path: string, projection?: AvroProjection): AvroContainer {
  const r = new FrameReader(bytes, path);
  const metadata = readHeader(r);
  const sync = r.take(16, 'the sync marker');
  const schemaText = metadata.get('avro.schema');
  if (schemaText === undefined) throw corruptFile(path, 'Avro header has no avro.schema');
  const codec = metadata.get('avro.codec') ?? 'null';
  const decode = recordDecoder(schemaText, path, projection);
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
        decoded = decode(block, pos);
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
