/**
 * Probe helpers without Apache Arrow: the engine's thread and the lean probe workers share them, and
 * a worker must not load Arrow (it costs most of a worker's start-up).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { LakemapError } from '../errors.js';

/** Tail bytes read for a scanner that does not say how many it wants. */
export const DEFAULT_TAIL_BYTES = 64 * 1024;

/** Any error from a scanner as a LakemapError that names the file. */
export function asLakemapError(format: string, path: string, err: unknown): LakemapError {
  if (LakemapError.is(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new LakemapError('SCANNER_ERROR', `scanner "${format}" failed on ${path}: ${msg}`, { path, cause: err });
}

export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as Promise<T>)?.then === 'function';
}

/** Size, mtime and a SHA-256 of the whole tail and every later read (the footer), for `verify: "footer"`. */
export function deepFingerprint(size: number, mtimeMs: number, tail: Uint8Array, extra: readonly Uint8Array[]): string {
  const h = createHash('sha256').update(tail);
  for (const b of extra) h.update(b);
  return `${size.toString(36)}-${mtimeMs.toString(36)}-${h.digest('hex').slice(0, 24)}`;
}
