// How files are cut into segments and fingerprinted (src/manifest/segments.ts), through the engine on
// real .jsonl files where the rule is visible in a manifest, directly where it is a pure function with a
// published oracle (FNV-1a test vectors). Written for the mutants of segments.ts that survived (issue 15).
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { fileFingerprint, placeUnits, segmentFile, segmentId } from '../src/manifest/segments.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

async function segmentsOf(rows: number, spec: Record<string, unknown>): Promise<[number, number][]> {
  const lake = tempDir();
  writeJsonl(path.join(lake, 'a.jsonl'), rows);
  const e = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], workers: 0 });
  await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'jsonl', ...spec } });
  const { jobId } = await e.refreshExternalCollection({ collectionName: 'c' });
  expect((await e.waitForRefresh(jobId)).state).toBe('RefreshCompleted');
  const m = await e.getManifest({ collectionName: 'c' });
  await e.close();
  return m.segments.map((s) => [s.ranges[0]!.rowOffset, s.rows] as [number, number]).sort((a, b) => a[0] - b[0]);
}

describe('segments of a file', () => {
  it('groups whole units while the group stays within segment_max_rows (a group may reach it exactly)', async () => {
    expect(await segmentsOf(5, { lines_per_unit: 2, segment_max_rows: 4 })).toEqual([[0, 4], [4, 1]]);
    expect(await segmentsOf(6, { lines_per_unit: 2, segment_max_rows: 3 })).toEqual([[0, 2], [2, 2], [4, 2]]);
    expect(await segmentsOf(7, { lines_per_unit: 2, segment_max_rows: 5 })).toEqual([[0, 4], [4, 3]]);
  });

  it('makes a unit larger than segment_max_rows a segment of its own', async () => {
    expect(await segmentsOf(5, { lines_per_unit: 5, segment_max_rows: 2 })).toEqual([[0, 5]]);
    expect(await segmentsOf(7, { lines_per_unit: 3, segment_max_rows: 2 })).toEqual([[0, 3], [3, 3], [6, 1]]);
  });

  it('defaults to one million rows per segment', () => {
    const units = placeUnits([{ rows: 600_000, byteSize: 1 }, { rows: 400_000, byteSize: 1 }, { rows: 1, byteSize: 1 }]);
    const segs = segmentFile({ path: 'a', fingerprint: 'f', units }, 1_000_000);
    expect(segs.map((s) => s.rows)).toEqual([1_000_000, 1]);
  });

  it('skips units without rows and makes no segment of a file without rows', () => {
    const units = placeUnits([{ rows: 0, byteSize: 0 }, { rows: 2, byteSize: 9 }, { rows: 0, byteSize: 0 }, { rows: 3, byteSize: 9 }]);
    expect(units.map((u) => u.rowOffset)).toEqual([0, 0, 2, 2]);
    expect(segmentFile({ path: 'a', fingerprint: 'f', units }, 2).map((s) => s.ranges[0])).toEqual([
      { path: 'a', rowOffset: 0, rows: 2 },
      { path: 'a', rowOffset: 2, rows: 3 },
    ]);
    expect(segmentFile({ path: 'a', fingerprint: 'f', units: placeUnits([{ rows: 0, byteSize: 0 }]) }, 2)).toEqual([]);
    expect(segmentFile({ path: 'a', fingerprint: 'f', units: [] }, 2)).toEqual([]);
  });

  it('places units at the prefix sums of their rows and keeps their details only when given', () => {
    expect(placeUnits([{ rows: 3, byteSize: 10, details: { rg: 0 } }, { rows: 4, byteSize: 20 }])).toEqual([
      { rowOffset: 0, rows: 3, byteSize: 10, details: { rg: 0 } },
      { rowOffset: 3, rows: 4, byteSize: 20 },
    ]);
    expect('details' in placeUnits([{ rows: 1, byteSize: 1 }])[0]!).toBe(false);
  });
});

describe('segment ids', () => {
  it('are 20 hex digits that change with the path, the fingerprint and the row range, and only with them', () => {
    const id = segmentId('a/b.parquet', 'fp', 0, 10);
    expect(id).toMatch(/^[0-9a-f]{20}$/);
    expect(segmentId('a/b.parquet', 'fp', 0, 10)).toBe(id);
    const others = [segmentId('a/c.parquet', 'fp', 0, 10), segmentId('a/b.parquet', 'fq', 0, 10), segmentId('a/b.parquet', 'fp', 1, 10), segmentId('a/b.parquet', 'fp', 0, 11)];
    expect(new Set([id, ...others]).size).toBe(5);
    // the separator keeps ("ab", "c") apart from ("a", "bc")
    expect(segmentId('ab', 'c', 0, 1)).not.toBe(segmentId('a', 'bc', 0, 1));
  });
});

describe('file fingerprints', () => {
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('are size and mtime in base 36 and FNV-1a (32-bit) of the last bytes, 8 hex digits', () => {
    // published FNV-1a 32-bit vectors: "" -> 811c9dc5, "a" -> e40c292c, "foobar" -> bf9cf968
    expect(fileFingerprint(0, 0, bytes(''))).toBe('0-0-811c9dc5');
    expect(fileFingerprint(36, 1_700_000_000_000, bytes('a'))).toBe(`10-${(1_700_000_000_000).toString(36)}-e40c292c`);
    expect(fileFingerprint(6, 35, bytes('foobar'))).toBe('6-z-bf9cf968');
  });

  it('pads a digest with leading zeros to 8 hex digits', () => {
    // find a short input whose digest is below 0x10000000, with a brute force over the published function
    let found: string | undefined;
    for (let i = 0; i < 100_000 && !found; i++) {
      const fp = fileFingerprint(1, 1, bytes(String(i)));
      if (fp.endsWith('-0' + fp.slice(-7))) found = fp;
    }
    expect(found).toBeDefined();
    expect(found!.split('-')[2]).toHaveLength(8);
  });

  it('read only the last 256 bytes', () => {
    const a = new Uint8Array(300).fill(7);
    const b = a.slice();
    b[43] = 8; // 257th byte from the end: outside the window
    expect(fileFingerprint(300, 1, b)).toBe(fileFingerprint(300, 1, a));
    const c = a.slice();
    c[44] = 8; // 256th byte from the end: inside
    expect(fileFingerprint(300, 1, c)).not.toBe(fileFingerprint(300, 1, a));
    const d = a.slice();
    d[299] = 8; // the last byte
    expect(fileFingerprint(300, 1, d)).not.toBe(fileFingerprint(300, 1, a));
  });
});
