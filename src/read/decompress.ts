/**
 * Page decompression for the parquet reader, pluggable per codec.
 *
 * Defaults: snappy and LZ4_RAW hand-written (they decode straight into the caller's buffer: no
 * copy in and out of a wasm memory, no fresh buffer per page), gzip and brotli through node:zlib,
 * zstd through `zlib.zstdDecompressSync` where Node has it (22.15+) and the pure-JS fzstd otherwise
 * (Node 20 has no zstd in zlib; native addons like zstd-napi need a build step this project's
 * installs do not run). Every codec's output length is checked against the page header, so a lying
 * header is a `CORRUPT_FILE`, never a short or overlong page.
 */
import * as zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';

/** Decompresses `input` into exactly `outputLength` bytes (a buffer of its own), or throws. */
export type Decompressor = (input: Uint8Array, outputLength: number) => Uint8Array;

/** Decompresses `input` into exactly `out[at, at + outputLength)`, or throws. */
export type DecompressorInto = (input: Uint8Array, out: Uint8Array, at: number, outputLength: number) => void;

/** Parquet `CompressionCodec` ids. */
export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, LZO: 3, BROTLI: 4, LZ4: 5, ZSTD: 6, LZ4_RAW: 7 } as const;

/** Names of the codec ids, for messages. */
export const codecNames = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];

/**
 * Snappy, decoded straight into `out[at, at + outputLength)`. Every literal and copy is checked
 * against the input and the output window, so a malformed block throws instead of reading or
 * writing outside them. Hand-written because it lands the values where they belong: hysnappy's
 * wasm (the previous default) copies the input into its memory and the output out of it, which
 * cost 5× the decoding itself on a 66 MiB page of floats.
 */
export const snappyInto: DecompressorInto = (input, out, at, outputLength) => {
  const n = input.length;
  let i = 0;
  let declared = 0;
  for (let mul = 1, k = 0; ; k++, mul *= 128) {
    if (k === 5 || i >= n) throw new Error('snappy block has no valid length preamble');
    const b = input[i++]!;
    declared += (b & 0x7f) * mul;
    if (b < 0x80) break;
  }
  if (declared !== outputLength) throw new Error(`snappy block holds ${declared} bytes, the page header says ${outputLength}`);
  if (at < 0 || at + outputLength > out.length) throw new Error('snappy output window lies outside the buffer');
  let o = at;
  const end = at + outputLength;
  while (i < n) {
    const tag = input[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const k = len - 59;
        if (i + k > n) throw new Error('snappy literal length runs past the block');
        len = 0;
        for (let j = 0; j < k; j++) len += input[i + j]! * 2 ** (8 * j);
        i += k;
      }
      len += 1;
      if (len > n - i || len > end - o) throw new Error('snappy literal runs past the block or the page');
      if (len < 32) for (let j = 0; j < len; j++) out[o + j] = input[i + j]!;
      else out.set(input.subarray(i, i + len), o);
      i += len;
      o += len;
    } else {
      let len: number;
      let offset: number;
      if (kind === 1) {
        if (i >= n) throw new Error('snappy copy runs past the block');
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | input[i++]!;
      } else if (kind === 2) {
        if (i + 2 > n) throw new Error('snappy copy runs past the block');
        len = (tag >>> 2) + 1;
        offset = input[i]! | (input[i + 1]! << 8);
        i += 2;
      } else {
        if (i + 4 > n) throw new Error('snappy copy runs past the block');
        len = (tag >>> 2) + 1;
        offset = (input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16)) + input[i + 3]! * 0x1000000;
        i += 4;
      }
      if (offset === 0 || offset > o - at) throw new Error(`snappy copy offset ${offset} points before the start`);
      if (len > end - o) throw new Error('snappy copy runs past the page size');
      // overlapping copies repeat a pattern byte by byte; long disjoint ones are a memmove
      if (offset >= len && len >= 32) out.copyWithin(o, o - offset, o - offset + len);
      else for (let j = 0; j < len; j++) out[o + j] = out[o - offset + j]!;
      o += len;
    }
  }
  if (o !== end) throw new Error(`snappy block holds ${o - at} bytes, the page header says ${outputLength}`);
};

/**
 * The first `k` bytes a snappy block decodes to (fewer when the block is shorter), decoding no
 * further: enough to read a page's level lengths before choosing where the whole page goes.
 */
export function snappyHead(input: Uint8Array, k: number): Uint8Array {
  const n = input.length;
  let i = 0;
  while (i < n && i < 5 && input[i]! >= 0x80) i++;
  i++;
  const out = new Uint8Array(k);
  let o = 0;
  while (i < n && o < k) {
    const tag = input[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const b = len - 59;
        len = 0;
        for (let j = 0; j < b; j++) len += (input[i + j] ?? 0) * 2 ** (8 * j);
        i += b;
      }
      len = Math.min(len + 1, k - o, n - i);
      if (len < 32) for (let j = 0; j < len; j++) out[o + j] = input[i + j]!;
      else out.set(input.subarray(i, i + len), o);
      i += len;
      o += len;
    } else {
      const len = kind === 1 ? ((tag >>> 2) & 7) + 4 : (tag >>> 2) + 1;
      const offset = kind === 1 ? ((tag >>> 5) << 8) | (input[i] ?? 0) : kind === 2 ? (input[i] ?? 0) | ((input[i + 1] ?? 0) << 8) : ((input[i] ?? 0) | ((input[i + 1] ?? 0) << 8) | ((input[i + 2] ?? 0) << 16)) + (input[i + 3] ?? 0) * 0x1000000;
      i += kind === 1 ? 1 : kind === 2 ? 2 : 4;
      if (offset === 0 || offset > o) throw new Error(`snappy copy offset ${offset} points before the start`);
      const m = Math.min(len, k - o);
      for (let j = 0; j < m; j++) out[o + j] = out[o - offset + j]!;
      o += m;
    }
  }
  return o === k ? out : out.subarray(0, o);
}

/** Snappy into a buffer of its own (see {@link snappyInto}). */
export const snappy: Decompressor = (input, outputLength) => {
  const out = new Uint8Array(outputLength);
  snappyInto(input, out, 0, outputLength);
  return out;
};

const zstdNode = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array, o?: object) => Buffer }).zstdDecompressSync;

/** Which zstd implementation {@link zstd} uses on this Node. */
export const zstdImplementation: 'node:zlib' | 'fzstd' = zstdNode ? 'node:zlib' : 'fzstd';

/** Zstandard: node:zlib where available, else fzstd (pure JS, about 3–7× slower). */
export const zstd: Decompressor = (input, outputLength) => {
  if (zstdNode) return checked(zstdNode(input, { maxOutputLength: Math.max(1, outputLength) }), outputLength, 'zstd');
  // Given an output buffer fzstd 0.1.1 decodes ~7× slower (measured on DuckDB pages), so it is left to
  // allocate — but only after the frame's declared content size was checked against the page header.
  const declared = zstdContentSize(input);
  if (declared === undefined) return checked(fzstdDecompress(input, new Uint8Array(outputLength)), outputLength, 'zstd');
  if (declared !== outputLength) throw new Error(`zstd frame declares ${declared} bytes, the page header says ${outputLength}`);
  return checked(fzstdDecompress(input), outputLength, 'zstd');
};

/** The content size a zstd frame header declares, or undefined when it declares none. */
function zstdContentSize(b: Uint8Array): number | undefined {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) throw new Error('not a zstd frame');
  const fhd = b[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const didFlag = fhd & 3;
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : 1 << fcsFlag;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][didFlag]!;
  if (at + fcsBytes > b.length) throw new Error('zstd frame header runs past the page');
  let v = 0;
  for (let i = 0; i < fcsBytes; i++) v += b[at + i]! * 2 ** (8 * i);
  return fcsBytes === 2 ? v + 256 : v;
}

/** gzip (zlib streams too, as some writers emit). */
export const gzip: Decompressor = (input, outputLength) =>
  checked(zlib.gunzipSync(input, { maxOutputLength: Math.max(1, outputLength) }), outputLength, 'gzip');

/** Brotli. */
export const brotli: Decompressor = (input, outputLength) =>
  checked(zlib.brotliDecompressSync(input, { maxOutputLength: Math.max(1, outputLength) }), outputLength, 'brotli');

/** LZ4 raw blocks (`LZ4_RAW`), decoded by hand: the format is a few lines and has no npm codec worth a dependency. */
export const lz4Raw: Decompressor = (input, outputLength) => {
  const out = new Uint8Array(outputLength);
  lz4RawInto(input, out, 0, outputLength);
  return out;
};

/** LZ4 raw blocks into `out[at, at + outputLength)`. */
export const lz4RawInto: DecompressorInto = (input, out, at, outputLength) => {
  if (at < 0 || at + outputLength > out.length) throw new Error('lz4 output window lies outside the buffer');
  const end = at + outputLength;
  let i = 0;
  let o = at;
  while (i < input.length) {
    const token = input[i++]!;
    let lit = token >> 4;
    if (lit === 15) {
      let b = 255;
      while (b === 255) {
        if (i >= input.length) throw new Error('lz4 literal length runs past the end');
        b = input[i++]!;
        lit += b;
      }
    }
    if (i + lit > input.length || o + lit > end) throw new Error('lz4 literals run past the end');
    out.set(input.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i >= input.length) break; // the last sequence has literals only
    if (i + 2 > input.length) throw new Error('lz4 offset runs past the end');
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - at) throw new Error(`lz4 offset ${offset} points before the start`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (i >= input.length) throw new Error('lz4 match length runs past the end');
        b = input[i++]!;
        len += b;
      }
    }
    if (o + len > end) throw new Error('lz4 match runs past the page size');
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
  }
  if (o !== end) throw new Error(`lz4 block holds ${o - at} bytes, the page header says ${outputLength}`);
};

function checked(out: Uint8Array, expected: number, name: string): Uint8Array {
  if (out.length !== expected) throw new Error(`${name} data holds ${out.length} bytes, the page header says ${expected}`);
  return out;
}

/** Codec id → decompressor; replace entries to plug in another implementation (e.g. a native zstd). */
export const decompressors: Partial<Record<number, Decompressor>> = {
  [Codec.SNAPPY]: snappy,
  [Codec.GZIP]: gzip,
  [Codec.BROTLI]: brotli,
  [Codec.ZSTD]: zstd,
  [Codec.LZ4_RAW]: lz4Raw,
};

const intoOf = new Map<Decompressor, DecompressorInto>([
  [snappy, snappyInto],
  [lz4Raw, lz4RawInto],
]);

/**
 * The decoder into a caller's buffer behind codec `codec`'s entry of {@link decompressors}, when that
 * entry is a built-in one that has it (a replaced entry is used as given).
 */
export function decompressorInto(codec: number): DecompressorInto | undefined {
  const d = decompressors[codec];
  return d ? intoOf.get(d) : undefined;
}
