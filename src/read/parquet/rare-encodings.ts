/**
 * Value encodings rare enough that a well-kept decoder serves better than our own: DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT are decoded by hyparquet's page
 * decoders, then appended to the same typed storage as PLAIN values. hyparquet reads through a
 * DataView, so a malformed page throws a RangeError (turned into CORRUPT_FILE) rather than reading
 * past the page.
 */
import { deltaBinaryUnpack, deltaByteArray, deltaLengthByteArray } from 'hyparquet/src/delta.js';
import { byteStreamSplit } from 'hyparquet/src/encoding.js';
import { PhysicalType } from '../../../scanners/parquet/types.js';
import { Encoding, encodingNames } from './page-header.js';
import { readPlain, reserveBytes, type Values } from './values.js';

const hyparquetTypes: Record<number, 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'FIXED_LEN_BYTE_ARRAY'> = {
  [PhysicalType.INT32]: 'INT32',
  [PhysicalType.INT64]: 'INT64',
  [PhysicalType.FLOAT]: 'FLOAT',
  [PhysicalType.DOUBLE]: 'DOUBLE',
  [PhysicalType.FIXED_LEN_BYTE_ARRAY]: 'FIXED_LEN_BYTE_ARRAY',
};

/** Appends `n` values of a page in a rare `encoding`; throws `Unsupported` for one nobody decodes here. */
export function readRareEncoding(bytes: Uint8Array, pos: number, end: number, n: number, encoding: number, type: number, out: Values, budget: number): void {
  if (n === 0) return;
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + pos, end - pos), offset: 0 };
  if (encoding === Encoding.DELTA_BINARY_PACKED && out.kind === 'fixed' && (type === PhysicalType.INT32 || type === PhysicalType.INT64)) {
    const values = type === PhysicalType.INT32 ? new Int32Array(n) : new BigInt64Array(n);
    deltaBinaryUnpack(reader, n, values);
    appendFixed(out, new Uint8Array(values.buffer));
    return;
  }
  if ((encoding === Encoding.DELTA_LENGTH_BYTE_ARRAY || encoding === Encoding.DELTA_BYTE_ARRAY) && out.kind === 'bytes') {
    const arrays: Uint8Array[] = new Array(n);
    if (encoding === Encoding.DELTA_LENGTH_BYTE_ARRAY) deltaLengthByteArray(reader, n, arrays);
    else deltaByteArray(reader, n, arrays);
    if (out.count + n + 1 > out.offsets.length) throw new Error('more values than the column chunk declares');
    let total = 0;
    for (const a of arrays) total += a.length;
    reserveBytes(out, total, budget);
    for (const a of arrays) {
      out.data.set(a, out.used);
      out.used += a.length;
      out.offsets[++out.count] = out.used;
    }
    return;
  }
  if ((encoding === Encoding.DELTA_LENGTH_BYTE_ARRAY || encoding === Encoding.DELTA_BYTE_ARRAY) && out.kind === 'fixed' && type === PhysicalType.FIXED_LEN_BYTE_ARRAY) {
    const arrays: Uint8Array[] = new Array(n);
    deltaByteArray(reader, n, arrays);
    for (const a of arrays) if (a.length !== out.width) throw new Error(`DELTA_BYTE_ARRAY value of ${a.length} bytes in a ${out.width}-byte column`);
    for (const a of arrays) appendFixed(out, a);
    return;
  }
  if (encoding === Encoding.BYTE_STREAM_SPLIT && out.kind === 'fixed' && hyparquetTypes[type]) {
    if (n * out.width > end - pos) throw new Error(`${n} BYTE_STREAM_SPLIT values need ${n * out.width} bytes, the page has ${end - pos}`);
    const decoded = byteStreamSplit(reader, n, hyparquetTypes[type], out.width);
    if (Array.isArray(decoded)) for (const a of decoded as Uint8Array[]) appendFixed(out, a);
    else appendFixed(out, new Uint8Array((decoded as Int32Array).buffer, (decoded as Int32Array).byteOffset, n * out.width));
    return;
  }
  if (encoding === Encoding.BIT_PACKED && out.kind === 'bool') {
    readPlain(bytes, pos, end, n, out, budget); // deprecated BIT_PACKED booleans are PLAIN's layout
    return;
  }
  throw new Unsupported(`${encodingNames[encoding] ?? `encoding ${encoding}`} values of this physical type`);
}

function appendFixed(out: Values, bytes: Uint8Array): void {
  if (out.kind !== 'fixed') throw new Error('fixed-width values expected');
  if (out.count * out.width + bytes.length > out.bytes.length) throw new Error('more values than the column chunk declares');
  out.bytes.set(bytes, out.count * out.width);
  out.count += bytes.length / out.width;
}

/** A valid page this reader does not decode (reported as `UNSUPPORTED`). */
export class Unsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unsupported';
  }
}
