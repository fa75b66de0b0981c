import type { UnitInfo } from '../scanner.js';
import type { ManifestFile, ManifestUnit, Segment } from '../types.js';
import { nibble, printDigits } from './digits.js';

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
  const units = file.units;
  let start = -1;
  let rows = 0;
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    if (u.rows === 0) continue;
    if (start >= 0 && rows + u.rows > maxRows) {
      out.push(segment(file, start, rows));
      start = -1;
      rows = 0;
    }
    if (start < 0) start = u.rowOffset;
    rows += u.rows;
  }
  if (start >= 0 && rows > 0) out.push(segment(file, start, rows));
  return out;
}

function segment(file: Pick<ManifestFile, 'path' | 'fingerprint'>, rowOffset: number, rows: number): Segment {
  return { id: segmentId(file.path, file.fingerprint, rowOffset, rows), rows, ranges: [{ path: file.path, rowOffset, rows }] };
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
  const offsetDigits = printDigits(rowOffset, digits, 0);
  const end = offsetDigits < 0 ? -1 : printDigits(rows, digits, offsetDigits);
  if (end < 0) return idOfKey(`${path}\0${fingerprint}\0${rowOffset}\0${rows}`);
  // The same key hashed part by part, not built first: one string fewer per segment, and the
  // numbers' digits without printing them (what nearly every id is made of).
  let a1 = A1;
  let a2 = A2;
  let b1 = B1;
  let b2 = B2;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0; // then the \0 after it
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  for (let i = 0; i <= fingerprint.length; i++) {
    const c = i < fingerprint.length ? fingerprint.charCodeAt(i) : 0;
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  // Both numbers' digits, most significant first, with the \0 between them.
  for (let i = 0; i <= end; i++) {
    const c = i < offsetDigits ? digits[offsetDigits - 1 - i]! : i === offsetDigits ? 0 : digits[end + offsetDigits - i]!;
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  // 40 bits of each: 10 hex digits apiece.
  return hex80(finish53(a1, a2), finish53(b1, b2));
}

const A1 = 0xdeadbeef ^ 0x9e3779b9;
const A2 = 0x41c6ce57 ^ 0x9e3779b9;
const B1 = 0xdeadbeef ^ 0x85ebca6b;
const B2 = 0x41c6ce57 ^ 0x85ebca6b;

/** {@link segmentId} of a key built whole (numbers that are not safe non-negative integers). */
function idOfKey(key: string): string {
  // cyrb53 (public domain, bryc) under two seeds, both in one pass over the key.
  let a1 = A1;
  let a2 = A2;
  let b1 = B1;
  let b2 = B2;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  return hex80(finish53(a1, a2), finish53(b1, b2));
}

/** Character codes of the two printed numbers of an id, each number's digits last first (see printDigits). */
const digits = new Uint8Array(40);

/** cyrb53's final mix: 53 bits with good avalanche. */
function finish53(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The top 40 of 53 bits of `x` and of `y` as 20 hex digits, made as one string (not printed,
 * padded and joined); each 40 bits in two 20-bit halves (small integers, not doubles, to shift).
 */
function hex80(x: number, y: number): string {
  const tx = Math.floor(x / 8192); // 53 - 13 = 40 bits
  const ty = Math.floor(y / 8192);
  const xh = Math.floor(tx / 1048576);
  const xl = tx - xh * 1048576;
  const yh = Math.floor(ty / 1048576);
  const yl = ty - yh * 1048576;
  return String.fromCharCode(
    nibble(xh >>> 16), nibble((xh >>> 12) & 15), nibble((xh >>> 8) & 15), nibble((xh >>> 4) & 15), nibble(xh & 15),
    nibble(xl >>> 16), nibble((xl >>> 12) & 15), nibble((xl >>> 8) & 15), nibble((xl >>> 4) & 15), nibble(xl & 15),
    nibble(yh >>> 16), nibble((yh >>> 12) & 15), nibble((yh >>> 8) & 15), nibble((yh >>> 4) & 15), nibble(yh & 15),
    nibble(yl >>> 16), nibble((yl >>> 12) & 15), nibble((yl >>> 8) & 15), nibble((yl >>> 4) & 15), nibble(yl & 15),
  );
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
