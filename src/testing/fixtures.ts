// A tiny fixture-writer API for scanner tests: temp folders, files from strings or bytes, damaged copies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh empty directory under the OS temp dir (remove it when done, e.g. with `fs.rmSync`). */
export function fixtureDir(prefix = 'lakemap-fixture-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Writes files under `dir` (created if missing): keys are `/`-separated relative paths, values their
 * content. Returns the relative paths, sorted.
 *
 * @example
 * ```ts
 * const dir = fixtureDir();
 * writeFixtures(dir, { 'a.jsonl': '{"id":1}\n', 'sub/b.jsonl': new Uint8Array([123, 125, 10]) });
 * ```
 */
export function writeFixtures(dir: string, files: Record<string, string | Uint8Array>): string[] {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, ...rel.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return Object.keys(files).sort();
}

/** A damaged copy of a file, named after what was done to it. */
export interface CorruptVariant {
  /** e.g. `truncated-to-7`, `flipped-at-1234`. */
  name: string;
  /** The damaged bytes. */
  bytes: Uint8Array;
}

/**
 * Damaged copies of a valid file, the kind a lake holds after a crashed writer or a bad copy: empty,
 * truncated at the start, middle and end, and with bytes flipped in the last `tailBytes` (where
 * footers live; the whole file when `tailBytes` is 0). Deterministic.
 */
export function corruptVariants(bytes: Uint8Array, tailBytes: number): CorruptVariant[] {
  const out: CorruptVariant[] = [{ name: 'empty', bytes: new Uint8Array(0) }];
  const cuts = new Set([1, 4, 8, Math.floor(bytes.length / 2), bytes.length - 8, bytes.length - 4, bytes.length - 1]);
  for (const n of [...cuts].sort((a, b) => a - b)) if (n > 0 && n < bytes.length) out.push({ name: `truncated-to-${n}`, bytes: bytes.slice(0, n) });
  const region = tailBytes === 0 ? bytes.length : Math.min(bytes.length, tailBytes);
  // A fixed pseudo-random walk: the same positions on every run, spread over the footer region.
  let seed = 0x9e3779b9;
  for (let i = 0; i < 12 && region > 0; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const at = bytes.length - 1 - (seed % region);
    const copy = bytes.slice();
    copy[at] = copy[at]! ^ 0xff;
    out.push({ name: `flipped-at-${at}`, bytes: copy });
  }
  // Lengths read from the footer are often its last bytes: make them huge.
  if (bytes.length >= 8) {
    const big = bytes.slice();
    big.fill(0xff, bytes.length - 8, bytes.length - 4);
    out.push({ name: 'huge-length-before-magic', bytes: big });
  }
  return out;
}
