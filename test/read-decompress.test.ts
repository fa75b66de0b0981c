// Page codecs: each decodes real data and refuses a page whose header lies about its length.
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { snappyCompress } from 'hysnappy';
import { describe, expect, it } from 'vitest';
import { gzip, lz4Raw, snappy, zstd } from '../src/read/decompress.js';
import { readFooter } from '../src/read/parquet/footer.js';
import { readPageHeader } from '../src/read/parquet/page-header.js';
import { SourceFile } from '../src/read/source-file.js';
import { writeVectorParquet } from '../fixtures/read/vectors.js';
import { tempDir } from './helpers/tmp.js';

const text = new TextEncoder().encode('lakemap reads the rows it mapped; '.repeat(200));

describe('page codecs', () => {
  it('zstd: a DuckDB page decodes to its declared size; a different size is refused before decoding', async () => {
    const file = path.join(tempDir(), 'z.parquet');
    await writeVectorParquet(file, { rows: 3000, rowGroupSize: 3000, dim: 8, codec: 'zstd' });
    const f = new SourceFile(file, 'z.parquet');
    try {
      const chunk = readFooter(f).rowGroups[0]!.columns[4]!;
      const bytes = f.read(chunk.start, chunk.length, 'chunk');
      const h = readPageHeader(bytes, 0, bytes.length);
      const raw = bytes.subarray(h.dataStart, h.dataStart + h.compressedSize);
      expect(zstd(raw, h.uncompressedSize).length).toBe(h.uncompressedSize);
      expect(() => zstd(raw, h.uncompressedSize + 1)).toThrow(/declares/);
      expect(() => zstd(raw.subarray(4), h.uncompressedSize)).toThrow();
    } finally {
      f.close();
    }
  });

  it('snappy: checks the preamble length against the page header', () => {
    const c = snappyCompress(text);
    expect(snappy(c, text.length)).toEqual(text);
    expect(() => snappy(c, text.length - 1)).toThrow(/snappy block holds/);
  });

  it('gzip: refuses more or fewer bytes than declared', () => {
    const c = zlib.gzipSync(text);
    expect(Buffer.from(gzip(c, text.length)).equals(Buffer.from(text))).toBe(true);
    expect(() => gzip(c, text.length + 5)).toThrow(/page header says/);
    expect(() => gzip(c, text.length - 5)).toThrow();
  });

  it('lz4 raw: literals and matches; an offset before the start is refused', () => {
    const block = new Uint8Array([0x32, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x21]); // "abc", copy 6 from 3 back, then "!"
    expect(new TextDecoder().decode(lz4Raw(block, 10))).toBe('abcabcabc!');
    expect(() => lz4Raw(new Uint8Array([0x32, 0x61, 0x62, 0x63, 0x09, 0x00, 0x10, 0x21]), 10)).toThrow(/before the start/);
    expect(() => lz4Raw(block, 11)).toThrow(/holds 10 bytes/);
  });
});
