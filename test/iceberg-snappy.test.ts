// Avro's snappy codec against a real encoder (hysnappy): long literals (whose length takes 1–4 extra
// bytes after the tag) and back-references, as Java and Python writers produce them; the fixture writer's
// own snappy blocks are all short literals. Cut blocks are refused with the reason.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { snappyCompress } from 'hysnappy';
import { afterAll, describe, expect, it } from 'vitest';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { snappyUncompress } from '../scanners/iceberg/snappy.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable } from '../fixtures/iceberg/sample-tables.js';
import { mulberry32 } from './helpers/prng.mjs';
import { snapshotLocalTable } from './helpers/scan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-snappy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `n` bytes that do not compress (seeded), so the encoder writes one literal of them. */
function noise(n: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

describe('snappy blocks of a real encoder', () => {
  it('decodes literals of every length form and back-references', () => {
    const text = new TextEncoder().encode('s3://warehouse/db/t/data/day=19000/a.parquet '.repeat(40));
    for (const data of [noise(1, 1), noise(60, 2), noise(61, 3), noise(300, 4), noise(70_000, 5), text, new Uint8Array(0)]) {
      const block = snappyCompress(data);
      expect(Buffer.from(snappyUncompress(block, data.length)).equals(Buffer.from(data)), `${data.length} bytes`).toBe(true);
    }
  });

  it('refuses a block cut inside a literal\'s length bytes, or right after them', () => {
    const block = snappyCompress(noise(300, 4));
    // Length varint 300 (2 bytes), then tag 61 << 2 (a literal whose length-1 follows in 2 bytes).
    expect([...block.subarray(0, 5)]).toEqual([0xac, 0x02, 0xf4, 0x2b, 0x01]);
    expect(() => snappyUncompress(block.subarray(0, 3), 300)).toThrow(/^snappy: truncated literal length$/);
    expect(() => snappyUncompress(block.subarray(0, 4), 300)).toThrow(/^snappy: truncated literal length$/);
    expect(() => snappyUncompress(block.subarray(0, 5), 300)).toThrow(/^snappy: literal runs past the end$/);
  });

  it('maps a table whose manifests a real snappy encoder compressed, as with deflate', async () => {
    const entries = async (codec: 'deflate' | 'snappy-hysnappy') => {
      const dir = path.join(tmp, codec);
      fs.mkdirSync(dir);
      writeFixtureTable(dir, { ...historyTable(), codec });
      return (await snapshotLocalTable(icebergScanner, dir)).entries;
    };
    const snappy = await entries('snappy-hysnappy');
    expect(snappy.map((e) => [e.path, e.rows])).toEqual([['data/day=19000/a.parquet', 10], ['data/day=19001/b.parquet', 20], ['data/day=19001/d.parquet', 7]]);
    expect(snappy).toEqual(await entries('deflate'));
  });
});
