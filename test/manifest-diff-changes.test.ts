// The change set a job reports (`diffChanges`), on hand-made manifests: a first version (no previous)
// takes a shortcut that builds no maps, so it is checked against the same counts the general walk
// gives, as is the general walk's handling of added, removed, modified and unchanged files.
import { describe, expect, it } from 'vitest';
import { diffChanges } from '../src/manifest/build.js';
import type { Manifest, ManifestFile, Segment } from '../src/types.js';

function manifest(files: [path: string, fingerprint: string, segments: number][]): Manifest {
  const fs: ManifestFile[] = [];
  const segs: Segment[] = [];
  for (const [path, fingerprint, n] of files) {
    fs.push({ path, fingerprint, sizeBytes: 1, mtimeMs: 1, rows: n, liveRows: n, liveRowsExact: true, schemaIndex: 0, units: [] } as unknown as ManifestFile);
    for (let i = 0; i < n; i++) segs.push({ id: `${path}:${fingerprint}:${i}`, rows: 1, ranges: [{ path, rowOffset: i, rows: 1 }] });
  }
  return { files: fs, segments: segs } as unknown as Manifest;
}

describe('diffChanges', () => {
  it('a first version adds every file and segment, naming the first 100 paths', () => {
    const files = Array.from({ length: 150 }, (_, i) => [`f${String(i).padStart(3, '0')}`, 'a', 2] as [string, string, number]);
    const c = diffChanges(undefined, manifest(files));
    expect(c.files).toEqual({ added: 150, removed: 0, modified: 0, unchanged: 0 });
    expect(c.segments).toEqual({ added: 300, removed: 0, kept: 0 });
    expect(c.addedPaths).toEqual(files.slice(0, 100).map((f) => f[0]));
    expect(c.removedPaths).toEqual([]);
    expect(c.modifiedPaths).toEqual([]);
    // The same as against an empty previous version (the general walk).
    expect(diffChanges(manifest([]), manifest(files))).toEqual(c);
  });

  it('names added, removed and modified files, and counts segments kept', () => {
    const before = manifest([['a', '1', 1], ['b', '1', 2], ['c', '1', 1], ['d', '1', 1]]);
    const after = manifest([['a', '1', 1], ['b', '2', 2], ['e', '1', 3]]);
    const c = diffChanges(before, after);
    expect(c.files).toEqual({ added: 1, removed: 2, modified: 1, unchanged: 1 });
    expect(c.addedPaths).toEqual(['e']);
    expect(c.removedPaths).toEqual(['c', 'd']);
    expect(c.modifiedPaths).toEqual(['b']);
    expect(c.segments).toEqual({ added: 5, removed: 4, kept: 1 });
  });
});
