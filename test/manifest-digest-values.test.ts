// Segment ids and file digests are stored in manifests (ids) and summed into roots (digests): any
// change to how they are computed renames segments or breaks incremental refreshes. These values were
// computed by the implementation before it was rewritten for speed (one pass for both id hashes, no
// closure per file digest); they must never change.
import { describe, expect, it } from 'vitest';
import { segmentId } from '../src/manifest/segments.js';
import { fileDigest, fileDigestOfSegments } from '../src/manifest/digest.js';
import { encodeChunk, ref } from '../src/manifest/chunks.js';

describe('stored digests keep their values', () => {
  it('segment ids', () => {
    expect(segmentId('a/b.parquet', '1k-2f-deadbeef', 0, 10)).toBe('5cadaadaef8cf4411f27');
    expect(segmentId('data/é ü/x.lance', 'lance:5:x.lance:none', 1048576, 999999)).toBe('b62a0c49f39cfa2bd91d');
    expect(segmentId('', '', 0, 0)).toBe('f4f08bc7ae5279a1fd1f');
  });

  it('file digests, from ids or from segments', () => {
    const f = { path: 'data/x.parquet', fingerprint: 'fp1', sizeBytes: 123, mtimeMs: 1700000000000.5, rows: 10, liveRows: 9 };
    expect(fileDigest(f, ['aaaa', 'bbbb'])).toBe('a880cb82ad444475');
    expect(fileDigest(f, [], 3)).toBe('a43473421c725598');
    expect(fileDigest({ ...f, path: 'ü' }, ['x'])).toBe('e9cc342550abcde6');
    const seg = (id: string) => ({ id, rows: 1, ranges: [{ path: f.path, rowOffset: 0, rows: 1 }] });
    expect(fileDigestOfSegments(f, [seg('aaaa'), seg('bbbb')])).toBe('a880cb82ad444475');
    expect(fileDigestOfSegments(f, [], 3)).toBe('a43473421c725598');
  });

  it('chunk ids and sizes (content addresses shared with versions already written)', () => {
    const f = { path: 'a/é.parquet', sizeBytes: 100, mtimeMs: 1700000000000.5, fingerprint: 'fp', rows: 10, liveRows: 9, liveRowsExact: true, schemaIndex: 0, units: [{ rowOffset: 0, rows: 10, byteSize: 100 }], details: { k: 'ü' } };
    const segs = [[{ id: 'abcdefabcdefabcdefab', rows: 10, ranges: [{ path: f.path, rowOffset: 0, rows: 10 }] }]];
    const c = encodeChunk([f], segs, ['0123456789abcdef']);
    expect(c.id).toBe('f3bc02b8fb3f8c17f3a0899103ac92f3');
    expect(ref(c, 'base', 1, 0).bytes).toBe(340);
    expect(encodeChunk([f], segs, ['0123456789abcdef'], ['gone.parquet']).id).toBe('0206560e8b01ceda1deb96ad9b5c6b1d');
  });
});
