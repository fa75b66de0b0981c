/**
 * Probe helpers without Apache Arrow: the engine's thread and the lean probe workers share them, and
 * a worker must not load Arrow (it costs most of a worker's start-up).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { LakemapError } from '../errors.js';
import type { ProbeFile } from '../scanner.js';
import { readBudget } from './budget.js';

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

/** A probe's view of one file, with the bookkeeping of its reads past the tail. */
export interface TrackedProbeFile {
  /** What the scanner (or its decoder) is given. */
  file: ProbeFile;
  /** Returns the read-budget grants its reads took (call once the probe has ended, however it ended). */
  release(): void;
  /** The bytes read past the tail, in order, when they were kept (for `verify: "footer"`). */
  extra(): readonly Uint8Array[];
}

const NO_READS: readonly Uint8Array[] = [];

/**
 * The file a probe sees: its tail, and reads past it that first take their bytes from the global read
 * budget (held until {@link TrackedProbeFile.release}) and are kept when `keepReads` (a deep fingerprint
 * hashes them). Grants and kept bytes exist only for probes that read past the tail: most do not, so
 * nothing is allocated for them up front.
 */
export function trackedProbeFile(
  storage: { read(path: string, offset: number, length: number): Promise<Uint8Array> },
  at: { path: string; size: number; mtimeMs: number; tail: Uint8Array },
  signal: AbortSignal | undefined,
  keepReads: boolean,
): TrackedProbeFile {
  let held: (() => void)[] | undefined;
  let extra: Uint8Array[] | undefined;
  const { path } = at;
  return {
    file: {
      path,
      size: at.size,
      mtimeMs: at.mtimeMs,
      tail: at.tail,
      read: async (o, l) => {
        (held ??= []).push(await readBudget.acquire(l, path, signal));
        const bytes = await storage.read(path, o, l);
        if (keepReads) (extra ??= []).push(bytes);
        return bytes;
      },
    },
    release: () => held?.forEach((r) => r()),
    extra: () => extra ?? NO_READS,
  };
}
