// The per-read cache of Iceberg delete files (src/read/iceberg-delete-cache.ts): a position delete file
// is read once for every data file it names while it fits in the read budget beside the data file's
// bits, and streamed for each data file (as without a cache) when it does not: same positions either way.
import { RecordBatch, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { IcebergFiles } from '../src/read/iceberg.js';
import { IcebergDeleteCache } from '../src/read/iceberg-delete-cache.js';
import { DeletedPositions } from '../src/read/deleted-positions.js';
import type { ManifestFile } from '../src/types.js';

const DATA = ['data/a.parquet', 'data/b.parquet', 'data/c.parquet'];

/** A delete file `del` naming each data file at positions 1, 5 and 9 + its index; counts its reads. */
function files(): IcebergFiles & { reads: number } {
  const out = {
    reads: 0,
    async *parquet() {
      out.reads++;
      const paths = DATA.flatMap((p) => [`s3://w/t/${p}`, `s3://w/t/${p}`, p]);
      const pos = DATA.flatMap((_, k) => [1n, 5n, BigInt(9 + k)]);
      yield tableFromArrays({ file_path: paths, pos: BigInt64Array.from(pos) }).batches[0] as RecordBatch;
    },
    async bytes(): Promise<Uint8Array> {
      throw new Error('no deletion vectors here');
    },
  };
  return out;
}

const file = (path: string): ManifestFile => ({ path, sizeBytes: 1, mtimeMs: 0, rows: 20 });

async function positions(budget: number): Promise<{ marked: number[][]; reads: number; cache: IcebergDeleteCache }> {
  const cache = new IcebergDeleteCache(budget);
  const f = files();
  const marked: number[][] = [];
  for (const p of DATA) {
    const bits = new DeletedPositions(p, 20, budget);
    await cache.positions(file(p), { path: 'del' }, f, bits, new Set(['p\u0000del']));
    marked.push(Array.from({ length: 20 }, (_, i) => i).filter((i) => bits.has(i)));
  }
  return { marked, reads: f.reads, cache };
}

describe('iceberg delete cache', () => {
  const expected = [[1, 5, 9], [1, 5, 10], [1, 5, 11]];

  it('reads a position delete file once for all the data files it names', async () => {
    const { marked, reads, cache } = await positions(1 << 20);
    expect(marked).toEqual(expected);
    expect(reads).toBe(1);
    expect(cache.bytes).toBeGreaterThan(0);
    expect(cache.bytes).toBeLessThanOrEqual(1 << 20);
  });

  it('streams it for each data file when holding it would pass the read budget', async () => {
    const { marked, reads, cache } = await positions(64);
    expect(marked).toEqual(expected);
    expect(reads).toBe(3);
    expect(cache.bytes).toBe(0);
  });
});
