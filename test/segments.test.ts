// Segment ids: stable for the same file and range, distinct otherwise (a fast non-cryptographic digest).
import { describe, expect, it } from 'vitest';
import { segmentFile, segmentId } from '../src/manifest/segments.js';

describe('segmentId', () => {
  it('is 20 hex digits and the same for the same path, fingerprint and range', () => {
    const a = segmentId('d/part-0.parquet', '1k-abc-0011aabb', 0, 1000);
    expect(a).toMatch(/^[0-9a-f]{20}$/);
    expect(segmentId('d/part-0.parquet', '1k-abc-0011aabb', 0, 1000)).toBe(a);
  });

  it('changes with each input', () => {
    const base = segmentId('p', 'f', 0, 10);
    expect(segmentId('q', 'f', 0, 10)).not.toBe(base);
    expect(segmentId('p', 'g', 0, 10)).not.toBe(base);
    expect(segmentId('p', 'f', 1, 10)).not.toBe(base);
    expect(segmentId('p', 'f', 0, 11)).not.toBe(base);
  });

  it('gives 300,000 similar keys 300,000 distinct ids, with every hex digit position varying', () => {
    const ids = new Set<string>();
    const seen = Array.from({ length: 20 }, () => new Set<string>());
    for (let i = 0; i < 300_000; i++) {
      const id = segmentId(`d${i % 1000}/part-${i}.parquet`, `${(1000 + (i % 7)).toString(36)}-x-00000000`, (i % 3) * 1000, 1000);
      ids.add(id);
      for (let k = 0; k < 20; k++) seen[k]!.add(id[k]!);
    }
    expect(ids.size).toBe(300_000);
    for (const s of seen) expect(s.size).toBe(16);
  });

  it('cuts a file into segments whose ids follow its ranges', () => {
    const units = [0, 400, 800].map((rowOffset) => ({ rowOffset, rows: 400, byteSize: 1 }));
    const segs = segmentFile({ path: 'a.parquet', fingerprint: 'fp', units }, 800);
    expect(segs.map((s) => s.ranges[0])).toEqual([
      { path: 'a.parquet', rowOffset: 0, rows: 800 },
      { path: 'a.parquet', rowOffset: 800, rows: 400 },
    ]);
    expect(segs[1]!.id).toBe(segmentId('a.parquet', 'fp', 800, 400));
  });
});
