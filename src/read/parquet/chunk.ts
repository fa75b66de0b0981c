/**
 * Decodes one column chunk: walks its pages, decompresses them, decodes repetition and definition
 * levels (v1 and v2 layouts) and appends the non-null values to typed storage. Every count is
 * checked against the chunk's declared value count and the row group's row count.
 */
import { PhysicalType } from '../../../scanners/parquet/types.js';
import { codecNames, decompressors } from '../decompress.js';
import type { ChunkMeta } from './footer.js';
import { Encoding, PageType, encodingNames, readPageHeader, type PageHeader } from './page-header.js';
import { readRareEncoding, Unsupported } from './rare-encodings.js';
import { bitWidthOf, decodeHybrid } from './rle.js';
import { allocValues, physicalWidth, readDictionaryIndices, readPlain, type Values } from './values.js';

/** A leaf column of the parquet schema. */
export interface Leaf {
  /** Physical type id. */
  type: number;
  /** FIXED_LEN_BYTE_ARRAY width. */
  typeLength: number | undefined;
  /** Highest definition level. */
  maxDef: number;
  /** Highest repetition level. */
  maxRep: number;
}

/** A decoded column chunk: one level entry per value slot, values dense. */
export interface DecodedChunk {
  /** Level entries (= the chunk's num_values). */
  levels: number;
  /** Definition levels, or null when the column is required all the way down. */
  def: Uint8Array | null;
  /** Repetition levels, or null for a column outside any list. */
  rep: Uint8Array | null;
  /** The non-null values, in order. */
  values: Values;
}

/** Level buffers reused from one row group to the next (levels never escape into the Arrow output). */
export interface LevelScratch {
  def: Uint8Array;
  rep: Uint8Array;
}

/** Decodes the chunk whose bytes are `bytes` (exactly the chunk's range). */
export function decodeChunk(bytes: Uint8Array, chunk: ChunkMeta, leaf: Leaf, numRows: number, budget: number, scratch: LevelScratch = { def: new Uint8Array(0), rep: new Uint8Array(0) }): DecodedChunk {
  if (leaf.maxDef > 255 || leaf.maxRep > 255) throw new Unsupported('nesting deeper than 255 levels');
  const decompress = chunk.codec === 0 ? undefined : decompressors[chunk.codec];
  if (chunk.codec !== 0 && !decompress) throw new Unsupported(`${codecNames[chunk.codec] ?? `codec ${chunk.codec}`} compression`);
  const n = chunk.numValues;
  const width = physicalWidth(leaf.type, leaf.typeLength);
  if (n * Math.max(1, width) > budget || n > 0x7ffffffe) throw new Error(`the chunk declares ${n} values, above the read budget`);
  if (leaf.maxRep === 0 && n !== numRows) throw new Error(`the chunk holds ${n} values for ${numRows} rows`);
  if (leaf.maxDef > 0 && scratch.def.length < n) scratch.def = new Uint8Array(n);
  if (leaf.maxRep > 0 && scratch.rep.length < n) scratch.rep = new Uint8Array(n);
  // every level slot is written by a page before use: the reused buffers need no clearing
  const def = leaf.maxDef > 0 ? scratch.def.subarray(0, n) : null;
  const rep = leaf.maxRep > 0 ? scratch.rep.subarray(0, n) : null;
  const values = allocValues(width, n, Math.min(chunk.uncompressed, budget));
  const indices = { idx: new Int32Array(0) };
  let dict: Values | undefined;
  let done = 0;
  let pos = 0;
  while (done < n) {
    if (pos >= bytes.length) throw new Error(`the chunk ends after ${done} of its ${n} values`);
    const h = readPageHeader(bytes, pos, bytes.length);
    const start = h.dataStart;
    if (h.compressedSize > bytes.length - start) throw new Error(`a page of ${h.compressedSize} bytes runs past the end of the chunk`);
    if (h.uncompressedSize > budget) throw new Error(`a page of ${h.uncompressedSize} uncompressed bytes is above the read budget`);
    pos = start + h.compressedSize;
    const raw = bytes.subarray(start, pos);
    if (h.type === PageType.DICTIONARY_PAGE) {
      if (h.numValues < 0 || h.numValues * Math.max(1, width) > budget) throw new Error(`dictionary of ${h.numValues} entries`);
      const page = inflate(raw, h.uncompressedSize, decompress);
      dict = allocValues(width, h.numValues, page.length);
      readPlain(page, 0, page.length, h.numValues, dict, budget);
    } else if (h.type === PageType.DATA_PAGE || h.type === PageType.DATA_PAGE_V2) {
      if (h.numValues < 0 || h.numValues > n - done) throw new Error(`a data page of ${h.numValues} values overflows the chunk's ${n}`);
      const m = h.numValues;
      let present = m; // values present: levels at the maximum definition level
      let page: Uint8Array;
      let p: number;
      if (h.type === PageType.DATA_PAGE) {
        page = inflate(raw, h.uncompressedSize, decompress);
        p = 0;
        if (rep) p = readLevelsV1(page, p, leaf.maxRep, m, rep, done, h.repEncoding).end;
        if (def) {
          const r = readLevelsV1(page, p, leaf.maxDef, m, def, done, h.defEncoding);
          p = r.end;
          present = r.atMax;
        }
      } else {
        const levelBytes = h.repLength + h.defLength;
        if (h.repLength < 0 || h.defLength < 0 || levelBytes > raw.length) throw new Error('v2 page level lengths run past the page');
        if (rep) decodeHybrid(raw, 0, h.repLength, bitWidthOf(leaf.maxRep), m, rep, done, leaf.maxRep);
        if (def) present = decodeHybrid(raw, h.repLength, levelBytes, bitWidthOf(leaf.maxDef), m, def, done, leaf.maxDef);
        const body = raw.subarray(levelBytes);
        const size = h.uncompressedSize - levelBytes;
        page = h.compressed && decompress && size > 0 ? inflate(body, size, decompress) : body;
        p = 0;
      }
      if (rep && done === 0 && m > 0 && rep[0] !== 0) throw new Error('the first level of the chunk does not start a row');
      readValues(page, p, present, h, leaf.type, values, dict, budget, indices);
      done += m;
    } else if (h.type !== PageType.INDEX_PAGE) {
      throw new Error(`unknown page type ${h.type}`);
    }
  }
  // Rows started by the repetition levels are counted (and checked) while assembling the lists.
  return { levels: n, def, rep, values };
}

function inflate(raw: Uint8Array, size: number, decompress: ((i: Uint8Array, n: number) => Uint8Array) | undefined): Uint8Array {
  if (!decompress) {
    if (raw.length !== size) throw new Error(`an uncompressed page of ${raw.length} bytes declares ${size}`);
    return raw;
  }
  return decompress(raw, size);
}

/** v1 levels: RLE with a 4-byte length prefix, or the deprecated BIT_PACKED (MSB first) encoding. */
function readLevelsV1(page: Uint8Array, p: number, max: number, m: number, out: Uint8Array, at: number, encoding: number): { end: number; atMax: number } {
  const width = bitWidthOf(max);
  if (encoding === Encoding.BIT_PACKED) {
    const len = Math.ceil((m * width) / 8);
    if (p + len > page.length) throw new Error('BIT_PACKED levels run past the page');
    let atMax = 0;
    for (let i = 0; i < m; i++) {
      let v = 0;
      for (let b = 0; b < width; b++) {
        const bit = i * width + b;
        v = (v << 1) | ((page[p + (bit >> 3)]! >> (7 - (bit & 7))) & 1);
      }
      if (v > max) throw new Error(`level ${v} above the maximum ${max}`);
      if (v === max) atMax++;
      out[at + i] = v;
    }
    return { end: p + len, atMax };
  }
  if (encoding !== Encoding.RLE) throw new Unsupported(`${encodingNames[encoding] ?? encoding} levels`);
  if (p + 4 > page.length) throw new Error('level length runs past the page');
  const len = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16)) + page[p + 3]! * 0x1000000;
  if (len > page.length - p - 4) throw new Error(`levels of ${len} bytes run past the page`);
  const atMax = decodeHybrid(page, p + 4, p + 4 + len, width, m, out, at, max);
  return { end: p + 4 + len, atMax };
}

function readValues(page: Uint8Array, p: number, present: number, h: PageHeader, type: number, values: Values, dict: Values | undefined, budget: number, scratch: { idx: Int32Array }): void {
  const enc = h.encoding;
  if (enc === Encoding.PLAIN) {
    readPlain(page, p, page.length, present, values, budget);
  } else if (enc === Encoding.RLE_DICTIONARY || enc === Encoding.PLAIN_DICTIONARY) {
    if (!dict) throw new Error('a dictionary-encoded page comes before any dictionary page');
    readDictionaryIndices(page, p, page.length, present, dict, values, budget, scratch);
  } else if (enc === Encoding.RLE && type === PhysicalType.BOOLEAN && values.kind === 'bool') {
    if (p + 4 > page.length) throw new Error('RLE boolean length runs past the page');
    if (values.count + present > values.bits.length) throw new Error('more values than the column chunk declares');
    const len = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16)) + page[p + 3]! * 0x1000000;
    if (len > page.length - p - 4) throw new Error('RLE booleans run past the page');
    decodeHybrid(page, p + 4, p + 4 + len, 1, present, values.bits, values.count);
    values.count += present;
  } else {
    readRareEncoding(page, p, page.length, present, enc, type, values, budget);
  }
}
