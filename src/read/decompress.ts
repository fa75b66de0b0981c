/**
 * Page decompression for the parquet reader, pluggable per codec.
 *
 * Defaults: snappy through hysnappy (wasm, ~3× hyparquet's JS snappy), gzip and brotli through
 * node:zlib, zstd through `zlib.zstdDecompressSync` where Node has it (22.15+) and the pure-JS fzstd
 * otherwise (Node 20 has no zstd in zlib; native addons like zstd-napi need a build step this
 * project's installs do not run). Every codec's output length is checked against the page header,
 * so a lying header is a `CORRUPT_FILE`, never a short or overlong page.
 */
import * as zlib from 'node:zlib';
import { snappyUncompressor } from 'hysnappy';
import { decompress as fzstdDecompress } from 'fzstd';

/** Decompresses `input` into exactly `outputLength` bytes, or throws. */
export type Decompressor = (input: Uint8Array, outputLength: number) => Uint8Array;

/** Parquet `CompressionCodec` ids. */
export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, LZO: 3, BROTLI: 4, LZ4: 5, ZSTD: 6, LZ4_RAW: 7 } as const;

/** Names of the codec ids, for messages. */
export const codecNames = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];

let snappyWasm: Decompressor | undefined;

/** Snappy via hysnappy's wasm build; the preamble's length is checked first (the wasm trusts it). */
export const snappy: Decompressor = (input, outputLength) => {
  const declared = snappyLength(input);
  if (declared !== outputLength) throw new Error(`snappy block holds ${declared} bytes, the page header says ${outputLength}`);
  snappyWasm ??= snappyUncompressor();
  return snappyWasm(input, outputLength);
};

/** The uncompressed length in a snappy block's varint preamble. */
function snappyLength(input: Uint8Array): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 5 && i < input.length; i++) {
    const b = input[i]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  throw new Error('snappy block has no valid length preamble');
}

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
  let i = 0;
  let o = 0;
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
    if (i + lit > input.length || o + lit > outputLength) throw new Error('lz4 literals run past the end');
    out.set(input.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i >= input.length) break; // the last sequence has literals only
    if (i + 2 > input.length) throw new Error('lz4 offset runs past the end');
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) throw new Error(`lz4 offset ${offset} points before the start`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (i >= input.length) throw new Error('lz4 match length runs past the end');
        b = input[i++]!;
        len += b;
      }
    }
    if (o + len > outputLength) throw new Error('lz4 match runs past the page size');
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
  }
  if (o !== outputLength) throw new Error(`lz4 block holds ${o} bytes, the page header says ${outputLength}`);
  return out;
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
