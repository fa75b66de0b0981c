import type { UnitInfo } from '../scanner.js';
import type { ManifestFile, ManifestUnit, Segment } from '../types.js';

/** Units with their row offsets inside the file (prefix sums of their rows). */
export function placeUnits(units: readonly UnitInfo[]): ManifestUnit[] {
  let offset = 0;
  return units.map((u) => {
    const placed: ManifestUnit = { rowOffset: offset, rows: u.rows, byteSize: u.byteSize };
    if (u.details) placed.details = u.details;
    offset += u.rows;
    return placed;
  });
}

/**
 * Cuts one file into segments: consecutive units are grouped while the group stays within `maxRows`;
 * a unit larger than `maxRows` is a segment of its own. Ids derive from the file's fingerprint and the
 * row range (see {@link segmentId}), so they stay the same while the file is unchanged and change when it is rewritten.
 */
export function segmentFile(file: Pick<ManifestFile, 'path' | 'fingerprint' | 'units'>, maxRows: number): Segment[] {
  const out: Segment[] = [];
  let start = -1;
  let rows = 0;
  const flush = (): void => {
    if (start < 0 || rows === 0) return;
    out.push({ id: segmentId(file.path, file.fingerprint, start, rows), rows, ranges: [{ path: file.path, rowOffset: start, rows }] });
  };
  for (const u of file.units) {
    if (u.rows === 0) continue;
    if (start >= 0 && rows + u.rows > maxRows) {
      flush();
      start = -1;
      rows = 0;
    }
    if (start < 0) start = u.rowOffset;
    rows += u.rows;
  }
  flush();
  return out;
}

/**
 * A stable segment id: 20 hex digits (80 bits) of a digest of the file path, its fingerprint and the
 * row range (the path too, because copies of one file share a fingerprint but are different rows).
 *
 * The digest is two independent 53-bit multiply–xorshift hashes (cyrb53-style) over the key's UTF-16
 * code units: not cryptographic, but ids only need to be stable and distinct (at 80 bits, a billion
 * segments collide with a probability of about 4·10⁻⁷), and it costs a fraction of a SHA-256.
 * Manifests written before this digest (SHA-256 based ids) stay valid: segments of unchanged files
 * are carried over with their ids; only new or rewritten files get ids of this digest.
 */
export function segmentId(path: string, fingerprint: string, rowOffset: number, rows: number): string {
  const key = `${path}\0${fingerprint}\0${rowOffset}\0${rows}`;
  // cyrb53 (public domain, bryc) under two seeds, both in one pass over the key.
  let a1 = 0xdeadbeef ^ 0x9e3779b9;
  let a2 = 0x41c6ce57 ^ 0x9e3779b9;
  let b1 = 0xdeadbeef ^ 0x85ebca6b;
  let b2 = 0x41c6ce57 ^ 0x85ebca6b;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  // 40 bits of each: 10 hex digits apiece.
  return hex40(finish53(a1, a2)) + hex40(finish53(b1, b2));
}

/** cyrb53's final mix: 53 bits with good avalanche. */
function finish53(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The top 40 of 53 bits as 10 hex digits, in two 20-bit halves (small integers print much faster than doubles). */
function hex40(h: number): string {
  const top = Math.floor(h / 8192); // 53 - 13 = 40 bits
  const hi = Math.floor(top / 1048576);
  const lo = top - hi * 1048576;
  return hi.toString(16).padStart(5, '0') + lo.toString(16).padStart(5, '0');
}

/**
 * Fingerprint of a file: its size, its mtime and a digest of its last bytes. Size and mtime alone
 * decide whether a file is reopened; the digest tells apart files that differ despite both.
 */
export function fileFingerprint(size: number, mtimeMs: number, tail: Uint8Array): string {
  // FNV-1a over the last 256 bytes: cheap, and the footer of every supported format is there.
  let h = 0x811c9dc5;
  for (let i = Math.max(0, tail.length - 256); i < tail.length; i++) h = Math.imul(h ^ tail[i]!, 0x01000193);
  return `${size.toString(36)}-${mtimeMs.toString(36)}-${(h >>> 0).toString(16).padStart(8, '0')}`;
}
