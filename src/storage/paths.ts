/**
 * Path rules shared by the local storage and everything that names files under a source: relative
 * paths normalized and refused when they leave the root, containment of resolved paths, read ranges
 * checked against a file's size, and file names that are not valid UTF-8.
 *
 * @module
 */
import * as path from 'node:path';
import { LakemapError, corruptFile } from '../errors.js';

/**
 * Normalizes a relative path to `/`-separated form without `.` segments; refuses absolute paths and
 * `..` that climbs above the root.
 */
export function normalizeRelative(rel: string, root: string): string {
  if (rel.includes('\0')) throw new LakemapError('PATH_ESCAPE', `path contains a NUL byte`, { path: rel });
  const parts = rel.replace(/\\/g, '/').split('/');
  if (rel.startsWith('/') || /^[a-zA-Z]:/.test(rel)) {
    throw new LakemapError('PATH_ESCAPE', `${rel} is absolute; paths under ${root} must be relative`, { path: rel });
  }
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (/%2e/i.test(p) && /^\.{1,2}$/.test(p.replace(/%2e/gi, '.'))) {
      throw new LakemapError('PATH_ESCAPE', `${rel} has a percent-encoded dot segment ("${p}"); refused rather than guessed`, { path: rel });
    }
    if (p === '..') {
      if (out.length === 0) throw new LakemapError('PATH_ESCAPE', `${rel} leads outside ${root}`, { path: rel });
      out.pop();
    } else out.push(p);
  }
  return out.join('/');
}

/** True when absolute `p` is `root` or below it. */
export function isInside(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Refuses a read of `length` bytes at `offset` that does not fit in a file of `size` bytes. */
export function checkRange(rel: string, offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw corruptFile(rel, `invalid read range (offset ${offset}, length ${length})`);
  }
  if (offset + length > size) {
    throw corruptFile(rel, `a read of ${length} bytes at offset ${offset} runs past the end of the ${size}-byte file`);
  }
}

/** The name as a string when its bytes are valid UTF-8. */
export function utf8Name(bytes: Buffer): string | undefined {
  const s = bytes.toString('utf8');
  return s.includes('\uFFFD') && !Buffer.from(s, 'utf8').equals(bytes) ? undefined : s;
}

/** Bytes of a name with each byte outside printable ASCII shown as `\xNN`. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * True when `rel` is already what {@link normalizeRelative} would return: no empty, `.`, `..` or
 * percent-encoded segment, no backslash, NUL or drive letter (listed paths always are; checking is
 * a few times cheaper than normalizing).
 */
export function isPlainRelative(rel: string): boolean {
  const n = rel.length;
  if (n === 0) return false;
  let segStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? rel.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0) return false;
      if (rel.charCodeAt(segStart) === 0x2e && (len === 1 || (len === 2 && rel.charCodeAt(segStart + 1) === 0x2e))) return false;
      segStart = i + 1;
    } else if (c === 0x5c || c === 0x25 || c === 0 || c === 0x3a) return false;
  }
  return true;
}
