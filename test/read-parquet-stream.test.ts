// Streaming a segment: one batch per row group (or the part of it in range), each row group read
// only when its batch is asked for, and the reader's reused buffers bounded by the largest chunk —
// the same for a one-row-group segment as for a six-row-group one. Values checked against DuckDB.
import * as path from 'node:path';
import { Schema } from 'apache-arrow';
import { snappyCompress } from 'hysnappy';
import { beforeAll, describe, expect, it } from 'vitest';
import { lz4RawInto, snappyHead, snappyInto } from '../src/read/decompress.js';
import { readFooter, type ParquetFooter } from '../src/read/parquet/footer.js';
import { readParquetRange, type ReadTrace } from '../src/read/parquet/reader.js';
import { countRunsAtMax, decodeRowStarts } from '../src/read/parquet/rle.js';
import type { PageFate } from '../src/read/parquet/chunk.js';
import { SourceFile } from '../src/read/source-file.js';
import { vectorSelect, writeVectorParquet, type VectorParquetOptions } from '../fixtures/read/vectors.js';
import { arrowRows, duckRows, type Canon } from './helpers/canonical-rows.js';
import { tempDir } from './helpers/tmp.js';

interface Traced {
  batches: number[];
  rows: Record<string, Canon>[];
  /** For each batch: the row groups whose chunks had been read when it was handed out. */
  readBefore: number[][];
  scratch: number[];
  pages: PageFate[];
  /** Byte offset of the `vec` values inside their buffer, per batch (when read). */
  vecOffsets: number[];
}

/** Reads rows `[rowOffset, rowOffset + rows)` of `file` (all columns, or `names`), recording the trace per batch. */
function traced(file: string, rowOffset: number, rows: number, names?: string[]): Traced {
  const f = new SourceFile(file, path.basename(file));
  try {
    const footer = readFooter(f);
    const fields = names ? names.map((n) => footer.schema.fields.find((x) => x.name === n)!) : footer.schema.fields;
    const schema = new Schema(fields);
    const columns = fields.map((field) => ({ field, external: field.name }));
    const read = new Set<number>();
    const out: Traced = { batches: [], rows: [], readBefore: [], scratch: [], pages: [], vecOffsets: [] };
    const trace: ReadTrace = {
      onChunkRead: (g) => read.add(g),
      onScratch: (bytes) => out.scratch.push(bytes),
      onPage: (fate) => out.pages.push(fate),
    };
    for (const b of readParquetRange(f, { rowOffset, rows, columns, schema, trace }, footer)) {
      out.readBefore.push([...read].sort((a, z) => a - z));
      out.batches.push(b.numRows);
      const vec = b.getChild('vec')?.data[0]?.children[0]?.values as Float32Array | undefined;
      if (vec) out.vecOffsets.push(vec.byteOffset);
      out.rows.push(...arrowRows([b])); // the batch is then dropped, as a consumer that streams does
    }
    return out;
  } finally {
    f.close();
  }
}

function footerOf(file: string): ParquetFooter {
  const f = new SourceFile(file, path.basename(file));
  try {
    return readFooter(f);
  } finally {
    f.close();
  }
}

describe.each(['snappy', 'zstd'] as const)('a segment over several row groups, with nulls and lists (%s)', (codec) => {
  const opts: VectorParquetOptions = { rows: 6 * 2048, rowGroupSize: 2048, dim: 32, nullEvery: 9, codec };
  let file: string;
  beforeAll(async () => {
    file = path.join(tempDir(), 'v.parquet');
    await writeVectorParquet(file, opts);
  });

  it('yields one batch per row group part, reading each row group only when its batch is asked for', async () => {
    const t = traced(file, 500, 4 * 2048); // the end of group 0, groups 1-3, the start of group 4
    expect(t.batches).toEqual([1548, 2048, 2048, 2048, 500]);
    expect(t.readBefore).toEqual([[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4]]);
    expect(t.rows).toEqual(await duckRows(`${vectorSelect(opts)} LIMIT ${4 * 2048} OFFSET 500`));
  });

  it('keeps its reused buffers at the largest chunk, page and level count: not growing with the segment', () => {
    const footer = footerOf(file);
    const one = traced(file, 2048, 2048);
    const six = traced(file, 0, 6 * 2048);
    expect(six.batches).toHaveLength(6);
    const bound = Math.max(...footer.rowGroups.flatMap((g) => g.columns.map((c) => c.length)))
      + 1.25 * Math.max(...footer.rowGroups.flatMap((g) => g.columns.map((c) => c.uncompressed))) // a page buffer grows by a quarter
      + Math.max(...footer.rowGroups.flatMap((g) => g.columns.map((c) => c.numValues)));
    expect(Math.max(...six.scratch)).toBeLessThanOrEqual(bound);
    expect(Math.max(...six.scratch)).toBeLessThanOrEqual(Math.max(...one.scratch) * 1.25);
  });
});

describe('values taken over from the page', () => {
  it('a chunk whose one page holds all its PLAIN values keeps that page as storage; the values equal DuckDB', async () => {
    const opts: VectorParquetOptions = { rows: 3 * 2048, rowGroupSize: 2048, dim: 8, codec: 'snappy' };
    const file = path.join(tempDir(), 'v.parquet');
    await writeVectorParquet(file, opts);
    const t = traced(file, 0, 3 * 2048, ['id', 'name', 'vec']);
    // per row group: id (INT64) and vec (a FLOAT list) are single PLAIN pages in DuckDB's files, taken
    // over; name's strings are copied into Arrow's offsets + bytes
    expect(t.pages).toEqual(Array(3).fill(['adopted', 'copied', 'adopted']).flat());
    // vec's page was placed so that its values, after the levels, start aligned: they stay in place
    expect(t.vecOffsets.every((o) => o > 0 && o % 8 === 0)).toBe(true);
    expect(t.rows).toEqual(await duckRows(`SELECT id, name, vec FROM (${vectorSelect(opts)})`));
  });
});

describe('snappy and LZ4 decoded into a window of the caller\'s buffer', () => {
  const repetitive = new TextEncoder().encode('lakemap reads the rows it mapped; '.repeat(500));
  const noisy = Uint8Array.from({ length: 100_000 }, (_, i) => ((i * 2654435761) >>> 13) & 0xff);

  it.each([['repetitive', repetitive], ['noisy', noisy]] as const)('snappy: %s data lands exactly in its window', (_, data) => {
    const c = snappyCompress(data);
    const out = new Uint8Array(data.length + 20).fill(7);
    snappyInto(c, out, 10, data.length);
    expect(Buffer.from(out.subarray(10, 10 + data.length)).equals(Buffer.from(data))).toBe(true);
    expect([...out.subarray(0, 10), ...out.subarray(10 + data.length)].every((b) => b === 7)).toBe(true);
  });

  it('snappy: a lying length, a window outside the buffer, a copy before the start or a truncated block is refused', () => {
    const c = snappyCompress(repetitive);
    const out = new Uint8Array(repetitive.length);
    expect(() => snappyInto(c, out, 0, repetitive.length - 1)).toThrow(/page header says/);
    expect(() => snappyInto(c, out, 1, repetitive.length)).toThrow(/outside the buffer/);
    expect(() => snappyInto(c.subarray(0, c.length - 3), out, 0, repetitive.length)).toThrow();
    // preamble 8, then a 1-byte-offset copy of 4 from 1 back with nothing written yet
    expect(() => snappyInto(new Uint8Array([8, 0x01, 0x01]), new Uint8Array(8), 0, 8)).toThrow(/before the start/);
    // a literal of 10 bytes in an 8-byte page
    expect(() => snappyInto(new Uint8Array([8, 9 << 2, ...new Uint8Array(10)]), new Uint8Array(8), 0, 8)).toThrow(/runs past/);
  });

  it.each([['repetitive', repetitive], ['noisy', noisy]] as const)('snappy: the head of %s data alone, and all of it when asked for more', (_, data) => {
    const c = snappyCompress(data);
    for (const k of [1, 4, 37, 5000]) expect(Buffer.from(snappyHead(c, k)).equals(Buffer.from(data.subarray(0, k)))).toBe(true);
    expect(Buffer.from(snappyHead(c, data.length + 10)).equals(Buffer.from(data))).toBe(true);
  });

  it('lz4: decodes into an offset window; the offset counts from the window, not the buffer', () => {
    const block = new Uint8Array([0x32, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x21]); // "abc", copy 6 from 3 back, "!"
    const out = new Uint8Array(15);
    lz4RawInto(block, out, 5, 10);
    expect(new TextDecoder().decode(out.subarray(5))).toBe('abcabcabc!');
    const before = new Uint8Array([0x32, 0x61, 0x62, 0x63, 0x04, 0x00, 0x10, 0x21]); // 4 back from the 3rd byte
    expect(() => lz4RawInto(before, new Uint8Array(15), 5, 10)).toThrow(/before the start/);
  });
});

describe('repetition levels read on their runs', () => {
  // RLE/bit-packed hybrid, bit width 1: header varint (count << 1 | bitpacked), then the run
  it('finds the rows of RLE and bit-packed runs, the last group cut at the level count', () => {
    const bytes = new Uint8Array([
      (1 << 1) | 1, 0b0000_0110, // bit-packed, 1 group (bits LSB first): 0 1 1 0 0 0 0 0
      (2 << 1) | 1, 0b1111_1110, 0b0111_1111, // 2 groups: 0 1 1 1 1 1 1 1, 1 1 1 1 1 1 1 0
      2 << 1, 0, // RLE: 0 0
      3 << 1, 1, // RLE: 1 1 1
    ]);
    const starts = new Int32Array(12);
    const rows = decodeRowStarts(bytes, 0, bytes.length, 8 + 16 + 2 + 3, 100, starts, 0, 12);
    expect([...starts.subarray(0, rows)]).toEqual([100, 103, 104, 105, 106, 107, 108, 123, 124, 125]);
    // a count that ends inside a group ignores the bits past it
    const cut = new Int32Array(4);
    expect(decodeRowStarts(new Uint8Array([(1 << 1) | 1, 0b0000_0000]), 0, 2, 3, 0, cut, 0, 4)).toBe(3);
  });

  it('refuses more rows than the row group, a level above 1, and runs past the data', () => {
    expect(() => decodeRowStarts(new Uint8Array([4 << 1, 0]), 0, 2, 4, 0, new Int32Array(4), 0, 3)).toThrow(/more rows/);
    expect(() => decodeRowStarts(new Uint8Array([(1 << 1) | 1, 0]), 0, 2, 8, 0, new Int32Array(9), 0, 3)).toThrow(/more rows/);
    expect(() => decodeRowStarts(new Uint8Array([4 << 1, 2]), 0, 2, 4, 0, new Int32Array(5), 0, 4)).toThrow(/out of range/);
    expect(() => decodeRowStarts(new Uint8Array([(2 << 1) | 1, 0]), 0, 2, 16, 0, new Int32Array(17), 0, 16)).toThrow(/needs 2 bytes/);
  });

  it('counts definition levels at the maximum on RLE runs, giving up on anything else', () => {
    expect(countRunsAtMax(new Uint8Array([5 << 1, 3, 7 << 1, 3]), 0, 4, 2, 12, 3)).toBe(12);
    expect(countRunsAtMax(new Uint8Array([5 << 1, 3, 7 << 1, 2]), 0, 4, 2, 12, 3)).toBe(-1);
    expect(countRunsAtMax(new Uint8Array([(1 << 1) | 1, 0xff, 0xff]), 0, 3, 2, 8, 3)).toBe(-1);
    expect(countRunsAtMax(new Uint8Array([5 << 1]), 0, 1, 2, 5, 3)).toBe(-1);
  });
});
