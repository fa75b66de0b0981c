// A manifest made by buildManifest carries its segments per file (memoized with its digests); the
// split that writes it takes them from there instead of grouping segments by path. Both ways must
// encode the same root and chunks, and the memoized way must still refuse multi-range segments.
import { describe, expect, it } from 'vitest';
import { splitManifest } from '../src/manifest/chunks.js';
import { manifestDigests } from '../src/manifest/digest.js';
import { segmentFile } from '../src/manifest/segments.js';
import type { Manifest, ManifestFile, Segment } from '../src/types.js';

function built(n: number): { m: Manifest; perFile: Segment[][] } {
  const files: ManifestFile[] = [];
  const perFile: Segment[][] = [];
  for (let i = 0; i < n; i++) {
    const rows = 10 + (i % 7);
    const f = {
      path: `d/f${String(i).padStart(4, '0')}.parquet`,
      sizeBytes: 100 + i,
      mtimeMs: 1700000000000 + i,
      fingerprint: `fp${i}`,
      rows: 2 * rows,
      liveRows: 2 * rows - (i % 2),
      liveRowsExact: true,
      schemaIndex: 0,
      units: [{ rowOffset: 0, rows, byteSize: 5 }, { rowOffset: rows, rows, byteSize: 5 }],
    } as ManifestFile;
    files.push(f);
    perFile.push(segmentFile(f, i % 3 === 0 ? rows : 1_000_000));
  }
  const m = { manifestFormat: 1, version: 1, contentHash: 'x', files, segments: perFile.flat() } as unknown as Manifest;
  return { m, perFile };
}

describe('split of a built manifest', () => {
  it('encodes what a split from a copy (no memo) encodes', () => {
    const { m, perFile } = built(300);
    manifestDigests(m, undefined, perFile); // what buildManifest does
    const copy = structuredClone(m);
    const a = splitManifest(m, { chunkFiles: 64 });
    const b = splitManifest(copy, { chunkFiles: 64 });
    expect(a.root).toEqual(b.root);
    expect(a.chunks.map((c) => [c.id, c.index, c.entries])).toEqual(b.chunks.map((c) => [c.id, c.index, c.entries]));
    expect(a.chunks.length).toBe(5);
  });

  it('refuses a segment of several ranges either way', () => {
    const { m, perFile } = built(3);
    const s = perFile[1]![0]!;
    s.ranges.push({ path: s.ranges[0]!.path, rowOffset: 0, rows: 1 });
    manifestDigests(m, undefined, perFile);
    expect(() => splitManifest(m)).toThrow(/spans 2 ranges/);
    expect(() => splitManifest(structuredClone(m))).toThrow(/spans 2 ranges/);
  });
});
