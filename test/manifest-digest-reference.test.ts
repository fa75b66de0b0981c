// Segment ids and file digests are hashed from their parts without printing the numbers (speed);
// they must equal, bit for bit, what hashing the printed key gives. These oracles are the printed-key
// implementations as they were before that change, checked over many generated inputs, including
// numbers that are not safe non-negative integers (fractional mtimes, negatives, NaN, huge values).
import { describe, expect, it } from 'vitest';
import { segmentId } from '../src/manifest/segments.js';
import { DigestSum, fileDigest } from '../src/manifest/digest.js';

function oracleSegmentId(path: string, fingerprint: string, rowOffset: number, rows: number): string {
  const key = `${path}\0${fingerprint}\0${rowOffset}\0${rows}`;
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
  const finish = (h1: number, h2: number): number => {
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  };
  const hex40 = (h: number): string => Math.floor(h / 8192).toString(16).padStart(10, '0');
  return hex40(finish(a1, a2)) + hex40(finish(b1, b2));
}

function oracleFileDigest(f: { path: string; fingerprint: string; sizeBytes: number; mtimeMs: number; rows: number; liveRows: number }, ids: string[], position?: number): string {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0, 2654435761);
    h2 = Math.imul(h2 ^ 0xffff, 1597334677);
  };
  feed(f.path);
  feed(f.fingerprint);
  feed(`${f.sizeBytes} ${f.mtimeMs} ${f.rows} ${f.liveRows}${position === undefined ? '' : ` #${position}`}`);
  for (const id of ids) feed(id);
  const a = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  const b = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

// A small deterministic generator (no flaky inputs).
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const SPECIAL = [9007199254740989, 9007199254740990, 8999999999999999, 0, -0, 1, 9, 10, 99, 100, 1e15, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, -1, -10, 0.5, 1700000000000.5, 1733580000123.4567, 1e21, NaN, Infinity];

describe('ids and digests hashed from their parts equal the printed-key hashes', () => {
  const r = rng(7);
  const num = (): number => (r() < 0.3 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : Math.floor(r() * 10 ** Math.floor(r() * 16)));
  const text = (): string => Array.from({ length: Math.floor(r() * 30) }, () => String.fromCharCode(r() < 0.9 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0x3000))).join('');

  it('segment ids', () => {
    for (let i = 0; i < 5000; i++) {
      const args = [text(), text(), num(), num()] as const;
      expect([args, segmentId(...args)]).toEqual([args, oracleSegmentId(...args)]);
    }
  });

  it('file digests, in and out of path order', () => {
    for (let i = 0; i < 5000; i++) {
      const f = { path: text(), fingerprint: text(), sizeBytes: num(), mtimeMs: num(), rows: num(), liveRows: num() };
      const ids = Array.from({ length: Math.floor(r() * 3) }, text);
      const position = r() < 0.5 ? undefined : num();
      expect(fileDigest(f, ids, position)).toBe(oracleFileDigest(f, ids, position));
    }
  });

  it('files digest sums print as 16 hex digits', () => {
    for (let i = 0; i < 2000; i++) {
      const d = Array.from({ length: 16 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
      const sum = new DigestSum();
      expect(sum.add(d)).toBe(true);
      expect(sum.hex()).toBe(d);
      expect(new DigestSum(d).hex()).toBe(d);
    }
  });
});
