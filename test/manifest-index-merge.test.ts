// The file index of a chunked version with delta chunks, merged in runs (manifest/index-merge.ts):
// the same index as applying the chunks one after another and sorting by path, for random base
// chunks and random deltas (replacing, adding, removing and re-adding paths); base chunks not in path
// order end to end are merged row by row and still lose no row.
import { describe, expect, it } from 'vitest';
import { loadFileIndex, type ChunkRef, type ChunkSource, type FileIndex, type LoadedFileIndex, type ManifestRoot } from '../src/manifest/chunks.js';
import { mulberry32 } from './helpers/prng.mjs';

interface Case {
  root: ManifestRoot;
  parse: (id: string) => FileIndex;
  chunks: FileIndex[];
}

const noSource: ChunkSource = { index: () => '', entries: () => '' };
const name = (n: number): string => `d${String(n % 7).padStart(2, '0')}/f-${String(n).padStart(5, '0')}.parquet`;

function row(idx: FileIndex, p: string, r: () => number, summary: boolean): void {
  idx.paths.push(p);
  idx.sizes.push(Math.floor(r() * 1e6));
  idx.mtimes.push(1.7e12 + r() * 1e9);
  idx.fingerprints.push(`fp${Math.floor(r() * 1e9)}`);
  if (summary) {
    const rows = Math.floor(r() * 1000);
    idx.rows!.push(rows);
    idx.live!.push(Math.floor(rows / 2));
    idx.segs!.push(1 + Math.floor(r() * 3));
    idx.digests!.push(Math.floor(r() * 2 ** 52).toString(16).padStart(16, '0'));
  }
}

function randomCase(seed: number, summary = true): Case {
  const r = mulberry32(seed);
  const empty = (): FileIndex => (summary ? { paths: [], sizes: [], mtimes: [], fingerprints: [], rows: [], live: [], segs: [], digests: [] } : { paths: [], sizes: [], mtimes: [], fingerprints: [] });
  const universe = Array.from({ length: 40 + Math.floor(r() * 300) }, (_, i) => name(i * 3)).sort();
  const basePaths = universe.filter(() => r() < 0.7);
  const chunks: FileIndex[] = [];
  const kinds: ChunkRef['kind'][] = [];
  const per = 1 + Math.floor(r() * 60);
  for (let i = 0; i < basePaths.length; i += per) {
    const idx = empty();
    for (const p of basePaths.slice(i, i + per)) row(idx, p, r, summary);
    chunks.push(idx);
    kinds.push('base');
  }
  const deltas = 1 + Math.floor(r() * 4);
  for (let d = 0; d < deltas; d++) {
    const idx = empty();
    const upserts = universe.filter(() => r() < 0.05);
    // Paths between and beyond the universe's too: before the first, after the last, between two.
    if (r() < 0.5) upserts.push('a-first.parquet', 'zz-last.parquet', `${universe[Math.floor(r() * universe.length)]!}x`);
    for (const p of [...new Set(upserts)].sort()) row(idx, p, r, summary);
    idx.removed = universe.filter((p) => r() < 0.05 && !idx.paths.includes(p));
    chunks.push(idx);
    kinds.push('delta');
  }
  const refs = chunks.map((c, k): ChunkRef => ({ id: `c${k}`, kind: kinds[k]!, files: c.paths.length, removed: c.removed?.length ?? 0, segments: 0, bytes: 0 }));
  const root = { manifestFormat: 2, pathOrdered: true, chunks: refs } as unknown as ManifestRoot;
  return { root, chunks, parse: (id) => chunks[Number(id.slice(1))]! };
}

/** The index by definition: apply the chunks in order, then sort the surviving rows by path. */
function applied(c: Case): LoadedFileIndex {
  const at = new Map<string, [FileIndex, number, number]>();
  c.chunks.forEach((idx, k) => {
    for (const p of idx.removed ?? []) at.delete(p);
    idx.paths.forEach((p, i) => at.set(p, [idx, i, k]));
  });
  const keys = [...at.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const col = <T>(f: (idx: FileIndex, i: number) => T): T[] => keys.map((p) => f(at.get(p)![0], at.get(p)![1]));
  const out: LoadedFileIndex = {
    paths: keys,
    sizes: col((x, i) => x.sizes[i]!),
    mtimes: col((x, i) => x.mtimes[i]!),
    fingerprints: col((x, i) => x.fingerprints[i]!),
    chunkOf: keys.map((p) => at.get(p)![2]),
  };
  if (c.chunks.every((x) => x.rows)) {
    Object.assign(out, { rows: col((x, i) => x.rows![i]!), live: col((x, i) => x.live![i]!), segs: col((x, i) => x.segs![i]!), digests: col((x, i) => x.digests![i]!) });
  }
  return out;
}

describe('the file index of a version with delta chunks', () => {
  it('is the chunks applied in order and sorted by path, for 300 random versions', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = randomCase(seed, seed % 5 !== 0);
      const got = loadFileIndex(c.root, noSource, c.parse);
      expect(got, `seed ${seed}`).toEqual(applied(c));
    }
  });

  it('keeps every row, none twice, when the base chunks are not in path order (merged row by row then)', () => {
    let checked = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const c = randomCase(seed);
      if (c.root.chunks[1]?.kind !== 'base') continue;
      // Swap the first two base chunks: each ascends, but not end to end.
      const chunks = [c.chunks[1]!, c.chunks[0]!, ...c.chunks.slice(2)];
      const swapped: Case = { ...c, chunks, parse: (id) => chunks[Number(id.slice(1))]! };
      const got = loadFileIndex(c.root, noSource, swapped.parse);
      const order = got.paths.map((_, i) => i).sort((a, b) => (got.paths[a]! < got.paths[b]! ? -1 : 1));
      const sorted = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, order.map((i) => (v as unknown[])[i])]));
      expect(sorted, `seed ${seed}`).toEqual(applied(swapped));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});
