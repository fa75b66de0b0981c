/**
 * The content hash of a manifest, built so that a refresh can update it from what changed.
 *
 * Each file contributes a 64-bit **file digest** of what the manifest says about it (path,
 * fingerprint, size, mtime, rows, live rows, its segment ids in order; its position too when the
 * files are not in path order). The **files digest** is the sum of the file digests (two 32-bit
 * lanes, each mod 2³²), so removing a file subtracts its digest and adding one adds it: a refresh that
 * touched 1% of the files updates it from those files alone. The content hash is a SHA-256 of the
 * manifest's header (format, source, spec, fields, table version, schema, skipped files, details),
 * the file count and the files digest. Every path that builds a manifest computes it this way, so a
 * version built from the whole manifest and one updated from a change have the same hash for the same
 * content. The file digests are not cryptographic: the hash tells "nothing changed" from "something
 * changed", and two different file sets summing to the same 64 bits by accident is ~2⁻⁶⁴.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Manifest, ManifestFile, Segment } from '../types.js';
import { nibble, printDigits } from './digits.js';

/** What a file digest covers. */
export interface DigestedFile {
  path: string;
  fingerprint: string;
  sizeBytes: number;
  mtimeMs: number;
  rows: number;
  liveRows: number;
}

/**
 * The 64-bit digest (16 hex digits) of one file and its segment ids; `position` only for manifests
 * whose order is not the path order (then the order is content too).
 */
export function fileDigest(f: DigestedFile, segmentIds: readonly string[], position?: number): string {
  startDigest(f, position);
  for (let i = 0; i < segmentIds.length; i++) feed(segmentIds[i]!);
  return endDigest();
}

/** {@link fileDigest} of a file and its segments, without collecting their ids first. */
export function fileDigestOfSegments(f: DigestedFile, segments: readonly Segment[], position?: number): string {
  startDigest(f, position);
  for (let i = 0; i < segments.length; i++) feed(segments[i]!.id);
  return endDigest();
}

// The running state of the digest being computed (module state, not a closure per file: a build digests every file).
let h1 = 0;
let h2 = 0;

function startDigest(f: DigestedFile, position: number | undefined): void {
  h1 = 0x9e3779b9;
  h2 = 0x85ebca6b;
  feed(f.path);
  feed(f.fingerprint);
  if (!feedCounts(f, position)) feed(`${f.sizeBytes} ${f.mtimeMs} ${f.rows} ${f.liveRows}${position === undefined ? '' : ` #${position}`}`);
}

function feed(s: string): void {
  let a = h1;
  let b = h2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 2654435761);
    b = Math.imul(b ^ c, 1597334677);
  }
  h1 = Math.imul(a ^ 0, 2654435761); // a separator no string contains
  h2 = Math.imul(b ^ 0xffff, 1597334677);
}

/** Character codes of the numbers {@link feedCounts} prints, each number's last digit first. */
const digits = new Uint8Array(96);
const ends = new Int32Array(5);

/**
 * {@link feed} of `${sizeBytes} ${mtimeMs} ${rows} ${liveRows}` (and ` #${position}`) without
 * printing it, when every number is a safe non-negative integer (nearly always); false, and nothing
 * fed, otherwise.
 */
function feedCounts(f: DigestedFile, position: number | undefined): boolean {
  const count = position === undefined ? 4 : 5;
  let at = 0;
  for (let v = 0; v < count; v++) {
    const n: unknown = v === 0 ? f.sizeBytes : v === 1 ? f.mtimeMs : v === 2 ? f.rows : v === 3 ? f.liveRows : position;
    at = printDigits(n as number, digits, at);
    if (at < 0) return false;
    ends[v] = at;
  }
  let a = h1;
  let b = h2;
  for (let v = 0; v < count; v++) {
    if (v > 0) {
      a = Math.imul(a ^ 32, 2654435761); // the space between numbers
      b = Math.imul(b ^ 32, 1597334677);
      if (v === 4) {
        a = Math.imul(a ^ 35, 2654435761); // and the # before the position
        b = Math.imul(b ^ 35, 1597334677);
      }
    }
    for (let k = ends[v]! - 1, start = v === 0 ? 0 : ends[v - 1]!; k >= start; k--) {
      const c = digits[k]!;
      a = Math.imul(a ^ c, 2654435761);
      b = Math.imul(b ^ c, 1597334677);
    }
  }
  h1 = Math.imul(a ^ 0, 2654435761);
  h2 = Math.imul(b ^ 0xffff, 1597334677);
  return true;
}

function endDigest(): string {
  const a = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  const b = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return hex16(a >>> 0, b >>> 0);
}

/** A running sum of file digests. */
export class DigestSum {
  private a = 0;
  private b = 0;

  /** Starts from a files digest (16 hex digits), default zero. */
  constructor(start?: string) {
    if (start !== undefined) {
      if (!isDigest(start)) throw new Error(`not a files digest: ${JSON.stringify(start)}`);
      this.a = parseInt(start.slice(0, 8), 16);
      this.b = parseInt(start.slice(8), 16);
    }
  }

  /** Adds a file digest (16 lower-case hex digits); false, and nothing added, when it is not one. */
  add(d: string): boolean {
    const a = hexLane(d, 0);
    const b = hexLane(d, 8);
    if (a < 0 || b < 0 || d.length !== 16) return false;
    this.a = (this.a + a) >>> 0;
    this.b = (this.b + b) >>> 0;
    return true;
  }

  /** Subtracts a file digest; false, and nothing subtracted, when it is not one. */
  sub(d: string): boolean {
    const a = hexLane(d, 0);
    const b = hexLane(d, 8);
    if (a < 0 || b < 0 || d.length !== 16) return false;
    this.a = (this.a - a) >>> 0;
    this.b = (this.b - b) >>> 0;
    return true;
  }

  /** The sum as 16 hex digits. */
  hex(): string {
    return hex16(this.a, this.b);
  }
}

/** True for 16 lower-case hex digits. */
export function isDigest(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{16}$/.test(v);
}

/** What the content hash covers besides the files. */
export type HashedHeader = Pick<Manifest, 'format' | 'externalSource' | 'resolvedSource' | 'externalSpec' | 'fields' | 'tableVersion' | 'schema' | 'skipped' | 'details'>;

/** The content hash of a manifest with this header, `fileCount` files and files digest `filesDigest`. */
export function contentHashOf(h: HashedHeader, fileCount: number, filesDigest: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([h.format, h.externalSource, h.resolvedSource, h.externalSpec, h.fields, h.tableVersion]));
  hash.update(h.schema.arrowIpc);
  hash.update(JSON.stringify(h.skipped));
  hash.update(JSON.stringify(h.details ?? null));
  hash.update(`\nfiles ${fileCount} ${filesDigest}`);
  return hash.digest('hex');
}

/** The 32-bit value of 8 lower-case hex digits of `s` from `at`, or -1 (no string slicing: a refresh sums thousands). */
function hexLane(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const x = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (x < 0) return -1;
    v = v * 16 + x;
  }
  return v;
}

/** Two 32-bit values as 16 lower-case hex digits, made as one string (not printed, padded and joined). */
function hex16(a: number, b: number): string {
  return String.fromCharCode(
    nibble(a >>> 28), nibble((a >>> 24) & 15), nibble((a >>> 20) & 15), nibble((a >>> 16) & 15),
    nibble((a >>> 12) & 15), nibble((a >>> 8) & 15), nibble((a >>> 4) & 15), nibble(a & 15),
    nibble(b >>> 28), nibble((b >>> 24) & 15), nibble((b >>> 20) & 15), nibble((b >>> 16) & 15),
    nibble((b >>> 12) & 15), nibble((b >>> 8) & 15), nibble((b >>> 4) & 15), nibble(b & 15),
  );
}

/** File digests of a manifest (aligned with its files) and their sum. */
export interface ManifestDigests {
  /** One per file, in manifest order. */
  digests: string[];
  /** Their sum: the files digest. */
  sum: string;
}

// Digests computed while building a manifest, found again by the split that writes it (same arrays).
const memo = new WeakMap<readonly ManifestFile[], { segments: readonly Segment[]; digests: ManifestDigests; perFile?: readonly (readonly Segment[])[] }>();

/**
 * The segments of each file of `m` (aligned with its files) when {@link manifestDigests} was given
 * them for these files and segments (a manifest `buildManifest` made): the split that writes it
 * then needs no map from path to segments.
 */
export function segmentsPerFile(m: Pick<Manifest, 'files' | 'segments'>): readonly (readonly Segment[])[] | undefined {
  const hit = memo.get(m.files);
  return hit && hit.segments === m.segments ? hit.perFile : undefined;
}

/** True when paths strictly ascend (then positions are not part of a file digest). */
export function isPathOrdered(files: readonly { path: string }[]): boolean {
  for (let i = 1; i < files.length; i++) if (!(files[i - 1]!.path < files[i]!.path)) return false;
  return true;
}

/**
 * The file digests and files digest of `m`, computed once per files/segments pair (a manifest
 * built by `buildManifest` has them already).
 */
export function manifestDigests(m: Pick<Manifest, 'files' | 'segments'>, segmentsOf?: (i: number) => readonly Segment[], perFile?: readonly (readonly Segment[])[]): ManifestDigests {
  const hit = memo.get(m.files);
  if (hit && hit.segments === m.segments) return hit.digests;
  let lists = segmentsOf ?? (perFile ? (i: number) => perFile[i]! : undefined);
  if (!lists) {
    const byPath = new Map<string, Segment[]>();
    for (const s of m.segments) {
      const p = s.ranges[0]?.path ?? '';
      const l = byPath.get(p);
      if (l) l.push(s);
      else byPath.set(p, [s]);
    }
    lists = (i) => byPath.get(m.files[i]!.path) ?? [];
  }
  const ordered = isPathOrdered(m.files);
  const sum = new DigestSum();
  const digests = new Array<string>(m.files.length);
  for (let i = 0; i < m.files.length; i++) {
    const d = fileDigestOfSegments(m.files[i]!, lists(i), ordered ? undefined : i);
    digests[i] = d;
    sum.add(d);
  }
  const out = { digests, sum: sum.hex() };
  memo.set(m.files, { segments: m.segments, digests: out, ...(perFile ? { perFile } : {}) });
  return out;
}
