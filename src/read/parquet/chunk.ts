/**
 * Decodes one column chunk: walks its pages, decompresses them, decodes repetition and definition
 * levels (v1 and v2 layouts) and appends the non-null values to typed storage. Every count is
 * checked against the chunk's declared value count and the row group's row count.
 */
import { PhysicalType } from '../../../scanners/parquet/types.js';
import { codecNames, decompressorInto, decompressors, snappyHead, snappyInto, type Decompressor, type DecompressorInto } from '../decompress.js';
import type { ChunkMeta } from './footer.js';
import { Encoding, PageType, encodingNames, readPageHeader, type PageHeader } from './page-header.js';
import { readRareEncoding, Unsupported } from './rare-encodings.js';
import { bitWidthOf, countRunsAtMax, decodeHybrid, decodeRowStarts } from './rle.js';
import { allocValues, physicalWidth, readDictionaryIndices, readPlain, type FixedValues, type Values } from './values.js';

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
  /**
   * For a list column: the level index where each row starts, then the level count
   * (`rows + 1` entries; with no null or empty list these are the list offsets); else null.
   */
  starts: Int32Array | null;
  /** The non-null values, in order. */
  values: Values;
}

/**
 * Buffers reused from one row group to the next: levels, and decompressed pages whose values are
 * copied out (none of them escapes into the Arrow output).
 */
export interface LevelScratch {
  def: Uint8Array;
  rep: Uint8Array;
  /** Decompressed pages, when the codec decodes into a caller's buffer. */
  page?: Uint8Array;
}

/** How a decompressed page reached its values (for tests: `adopted` means no copy of the values). */
export type PageFate = 'adopted' | 'copied';

/** The codec functions of one chunk. */
interface Codec {
  /** Allocating decoder, or undefined for UNCOMPRESSED. */
  decompress: Decompressor | undefined;
  /** Decoder into a caller's buffer, when the codec has one. */
  into: DecompressorInto | undefined;
}

/** Decodes the chunk whose bytes are `bytes` (exactly the chunk's range). */
export function decodeChunk(
  bytes: Uint8Array,
  chunk: ChunkMeta,
  leaf: Leaf,
  numRows: number,
  budget: number,
  scratch: LevelScratch = { def: new Uint8Array(0), rep: new Uint8Array(0) },
  onPage?: (fate: PageFate) => void,
): DecodedChunk {
  if (leaf.maxDef > 255 || leaf.maxRep > 255) throw new Unsupported('nesting deeper than 255 levels');
  const decompress = chunk.codec === 0 ? undefined : decompressors[chunk.codec];
  if (chunk.codec !== 0 && !decompress) throw new Unsupported(`${codecNames[chunk.codec] ?? `codec ${chunk.codec}`} compression`);
  const codec: Codec = { decompress, into: chunk.codec === 0 ? undefined : decompressorInto(chunk.codec) };
  const n = chunk.numValues;
  const width = physicalWidth(leaf.type, leaf.typeLength);
  if (n * Math.max(1, width) > budget || n > 0x7ffffffe) throw new Error(`the chunk declares ${n} values, above the read budget`);
  if (leaf.maxRep === 0 && n !== numRows) throw new Error(`the chunk holds ${n} values for ${numRows} rows`);
  if (leaf.maxRep > 1) throw new Unsupported('lists of lists');
  const def = leaf.maxDef > 0 ? new DefLevels(scratch, n, leaf.maxDef) : null;
  // repetition levels are read straight into row starts: no per-level array
  const starts = leaf.maxRep > 0 ? new Int32Array(numRows + 1) : null;
  let rows = 0;
  // allocated at the first page that copies values: a page that holds the whole chunk's PLAIN
  // fixed-width values becomes the values' storage instead (no second buffer, no copy)
  let values: Values | undefined;
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
      const page = inflate(raw, h.uncompressedSize, codec, scratch);
      dict = allocValues(width, h.numValues, page.length);
      readPlain(page, 0, page.length, h.numValues, dict, budget);
    } else if (h.type === PageType.DATA_PAGE || h.type === PageType.DATA_PAGE_V2) {
      if (h.numValues < 0 || h.numValues > n - done) throw new Error(`a data page of ${h.numValues} values overflows the chunk's ${n}`);
      const m = h.numValues;
      let present = m; // values present: levels at the maximum definition level
      let page: Uint8Array;
      let p: number;
      // the page's values are the whole chunk's, PLAIN and fixed-width: decompress into a buffer of its own and keep it
      const adopt = width > 0 && done === 0 && m === n && h.encoding === Encoding.PLAIN && decompress !== undefined;
      let own = false;
      if (h.type === PageType.DATA_PAGE) {
        const prefix = adopt ? levelPrefix(raw, codec, starts ? h.repEncoding : -1, def ? h.defEncoding : -1) : 0;
        ({ page, own } = adopt ? inflateOwn(raw, h.uncompressedSize, codec, prefix) : { page: inflate(raw, h.uncompressedSize, codec, scratch), own: false });
        p = 0;
        if (starts) ({ end: p, rows } = readRowStartsV1(page, p, m, done, h.repEncoding, starts, rows, numRows, scratch));
        if (def) {
          if (h.defEncoding === Encoding.RLE) {
            const len = levelLength(page, p);
            present = def.read(page, p + 4, p + 4 + len, m, done);
            p += 4 + len;
          } else {
            const r = readLevelsV1(page, p, leaf.maxDef, m, def.materialize(done), done, h.defEncoding);
            p = r.end;
            present = r.atMax;
          }
        }
      } else {
        const levelBytes = h.repLength + h.defLength;
        if (h.repLength < 0 || h.defLength < 0 || levelBytes > raw.length) throw new Error('v2 page level lengths run past the page');
        if (starts) rows = decodeRowStarts(raw, 0, h.repLength, m, done, starts, rows, numRows);
        if (def) present = def.read(raw, h.repLength, levelBytes, m, done);
        const body = raw.subarray(levelBytes);
        const size = h.uncompressedSize - levelBytes;
        if (size < 0) throw new Error('v2 page levels are longer than the page');
        if (h.compressed && decompress && size > 0) {
          ({ page, own } = adopt ? inflateOwn(body, size, codec, 0) : { page: inflate(body, size, codec, scratch), own: false });
        } else page = body;
        p = 0;
      }
      if (starts && done === 0 && m > 0 && (rows === 0 || starts[0] !== 0)) throw new Error('the first level of the chunk does not start a row');
      if (own) {
        values = adoptPlain(page, p, present, width);
        onPage?.('adopted');
      } else {
        values ??= allocValues(width, n, Math.min(chunk.uncompressed, budget));
        readValues(page, p, present, h, leaf.type, values, dict, budget, indices);
        onPage?.('copied');
      }
      done += m;
    } else if (h.type !== PageType.INDEX_PAGE) {
      throw new Error(`unknown page type ${h.type}`);
    }
  }
  if (starts) {
    if (rows !== numRows) throw new Error(`the levels start ${rows} rows, the row group has ${numRows}`);
    starts[rows] = n;
  }
  return { levels: n, def: def?.array ?? null, starts, values: values ?? allocValues(width, 0, 0) };
}

/**
 * A chunk's definition levels, written out only from the first page that has a level below the
 * maximum (the earlier ones are then all at the maximum): a column without nulls costs a scan of
 * its level runs, no per-level array.
 */
class DefLevels {
  /** The levels `[0, done)`, or null while every level so far is at the maximum. */
  array: Uint8Array | null = null;

  constructor(
    private readonly scratch: LevelScratch,
    private readonly n: number,
    private readonly max: number,
  ) {}

  /** Reads `m` RLE/bit-packed levels at level index `at` from `bytes[pos, end)`; returns how many are at the maximum. */
  read(bytes: Uint8Array, pos: number, end: number, m: number, at: number): number {
    const width = bitWidthOf(this.max);
    if (!this.array && countRunsAtMax(bytes, pos, end, width, m, this.max) === m) return m;
    return decodeHybrid(bytes, pos, end, width, m, this.materialize(at), at, this.max);
  }

  /** The level array, its first `at` levels filled with the maximum. */
  materialize(at: number): Uint8Array {
    if (!this.array) {
      if (this.scratch.def.length < this.n) this.scratch.def = new Uint8Array(this.n);
      this.array = this.scratch.def.subarray(0, this.n);
      this.array.fill(this.max, 0, at);
    }
    return this.array;
  }
}

/** A decompressed page, valid until the next page of this scratch (a view of the chunk when uncompressed). */
function inflate(raw: Uint8Array, size: number, codec: Codec, scratch: LevelScratch): Uint8Array {
  if (!codec.decompress) {
    if (raw.length !== size) throw new Error(`an uncompressed page of ${raw.length} bytes declares ${size}`);
    return raw;
  }
  if (!codec.into) return codec.decompress(raw, size);
  if (!scratch.page || scratch.page.length < size) scratch.page = new Uint8Array(Math.max(size, Math.ceil((scratch.page?.length ?? 0) * 1.25)));
  codec.into(raw, scratch.page, 0, size);
  return scratch.page.subarray(0, size);
}

/**
 * A decompressed page in a buffer of its own (`own`: it may become the output's storage). With a
 * decoder into a caller's buffer, the page is placed so that its values, `prefix` bytes in, start
 * 8-byte aligned: kept where they are, with no move.
 */
function inflateOwn(raw: Uint8Array, size: number, codec: Codec, prefix: number): { page: Uint8Array; own: boolean } {
  if (codec.into) {
    const shift = (8 - (prefix % 8)) % 8;
    // not zero-filled (a 66 MiB page costs ~10 ms to clear): the decoder writes every byte of its
    // window or throws, and the `shift` bytes before it are never viewed
    const buffer = new Uint8Array(Buffer.allocUnsafeSlow(shift + size).buffer, 0, shift + size);
    codec.into(raw, buffer, shift, size);
    return { page: buffer.subarray(shift), own: true };
  }
  const page = codec.decompress!(raw, size);
  // a decoder may hand back a view of a larger or shared buffer (zlib's pool): then copy as usual
  return { page, own: page.byteOffset === 0 && page.buffer.byteLength === page.length };
}

/**
 * Bytes of the RLE levels before a v1 page's values (`-1`: no such levels), read from the head of the
 * compressed page when the codec can decode a head alone; 0 when unknown (the values are then moved).
 */
function levelPrefix(raw: Uint8Array, codec: Codec, repEncoding: number, defEncoding: number): number {
  const head = codec.into ? headOf.get(codec.into) : undefined;
  if (!head || repEncoding === Encoding.BIT_PACKED || defEncoding === Encoding.BIT_PACKED) return 0;
  try {
    let p = 0;
    for (const enc of [repEncoding, defEncoding]) {
      if (enc < 0) continue;
      const h = head(raw, p + 4);
      if (h.length < p + 4) return 0;
      p += 4 + ((h[p]! | (h[p + 1]! << 8) | (h[p + 2]! << 16)) + h[p + 3]! * 0x1000000);
    }
    return p;
  } catch {
    return 0; // the full decode reports what is wrong with the page
  }
}

const headOf = new Map<DecompressorInto, (input: Uint8Array, k: number) => Uint8Array>([[snappyInto, snappyHead]]);

/** The page's `present` PLAIN values, kept in place when aligned, else moved to the start of its own buffer, as the chunk's values. */
function adoptPlain(page: Uint8Array, p: number, present: number, width: number): FixedValues {
  const len = present * width;
  if (p + len > page.length) throw new Error(`${present} PLAIN values need ${len} bytes, the page has ${page.length - p}`);
  const at = page.byteOffset + p;
  if (at % 8 === 0) return { kind: 'fixed', width, count: present, bytes: page.subarray(p, p + len) };
  const whole = new Uint8Array(page.buffer); // the page's own buffer: nothing else views it
  whole.copyWithin(0, at, at + len);
  return { kind: 'fixed', width, count: present, bytes: whole.subarray(0, len) };
}

/** v1 repetition levels (of a one-level list) into row starts; see {@link decodeRowStarts}. */
function readRowStartsV1(page: Uint8Array, p: number, m: number, at: number, encoding: number, starts: Int32Array, rows: number, maxRows: number, scratch: LevelScratch): { end: number; rows: number } {
  if (encoding === Encoding.RLE) {
    const len = levelLength(page, p);
    return { end: p + 4 + len, rows: decodeRowStarts(page, p + 4, p + 4 + len, m, at, starts, rows, maxRows) };
  }
  // the deprecated BIT_PACKED levels: decoded per level, then scanned
  if (scratch.rep.length < m) scratch.rep = new Uint8Array(m);
  const { end } = readLevelsV1(page, p, 1, m, scratch.rep, 0, encoding);
  for (let i = 0; i < m; i++) {
    if (scratch.rep[i] !== 0) continue;
    if (rows === maxRows) throw new Error(`the levels start more rows than the row group's ${maxRows}`);
    starts[rows++] = at + i;
  }
  return { end, rows };
}

function levelLength(page: Uint8Array, p: number): number {
  if (p + 4 > page.length) throw new Error('level length runs past the page');
  const len = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16)) + page[p + 3]! * 0x1000000;
  if (len > page.length - p - 4) throw new Error(`levels of ${len} bytes run past the page`);
  return len;
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
  const len = levelLength(page, p);
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
