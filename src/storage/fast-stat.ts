/**
 * Size and mtime of a path without an `fs.Stats`: on Node 20 every `fs.statSync` builds a Stats
 * object and four Dates, about a quarter of a no-change refresh's CPU at 100k files (the rest is the
 * system calls; issue #10). Node's own fs binding returns the same numbers in a reused array. It is
 * an internal interface, so it is used only after it gave, for the first path asked, exactly what
 * `fs.statSync` gives; anywhere it is missing, refused (permission model), would warn
 * (`--pending-deprecation`) or differs, `fs.statSync` is used. A failing stat is always repeated
 * with `fs.statSync`, so errors are Node's public ones.
 *
 * @module
 */
import * as fs from 'node:fs';

/** The part of Node's fs binding used here: `stat(path, bigint, req, throwIfNoEntry)`. */
interface StatBinding {
  stat(path: string, bigint: false, req: undefined, throwIfNoEntry: true): ArrayLike<number>;
}

// Positions in the binding's stat array (lib/internal/fs/utils.js: kSize, kMTimeSec, kMTimeNsec).
const SIZE = 8;
const MTIME_SEC = 12;
const MTIME_NSEC = 13;

/** Undefined until the first call decides; null when `fs.statSync` is used. */
let binding: StatBinding | null | undefined;

/** Size and mtime (epoch ms, as `fs.Stats.mtimeMs`) of `file`, links followed; throws as `fs.statSync`. */
export function statSizeMtime(file: string): { size: number; mtimeMs: number } {
  if (binding) {
    try {
      const a = binding.stat(file, false, undefined, true);
      // As Node computes Stats.mtimeMs from the two fields (msFromTimeSpec).
      return { size: a[SIZE]!, mtimeMs: a[MTIME_SEC]! * 1e3 + a[MTIME_NSEC]! / 1e6 };
    } catch {
      // fall through: the public call says why (or finds the file now)
    }
  }
  const st = fs.statSync(file);
  if (binding === undefined) binding = usableBinding(file, st);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** The binding when it stats `file` exactly as `fs.statSync` did (`st`); null otherwise, or when it would warn. */
function usableBinding(file: string, st: fs.Stats): StatBinding | null {
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (flags.includes('--pending-deprecation') || process.env.NODE_PENDING_DEPRECATION === '1') return null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StatBinding> }).binding('fs');
    if (typeof b.stat !== 'function') return null;
    const candidate = b as StatBinding;
    const a = candidate.stat(file, false, undefined, true);
    const same = a.length > MTIME_NSEC && a[SIZE] === st.size && a[MTIME_SEC]! * 1e3 + a[MTIME_NSEC]! / 1e6 === st.mtimeMs && a[7] === st.ino && a[1] === st.mode;
    return same ? candidate : null;
  } catch {
    return null;
  }
}

/** Which way stats are taken in this process (for tests): undefined before the first. */
export function statWay(): 'binding' | 'fs' | undefined {
  return binding === undefined ? undefined : binding === null ? 'fs' : 'binding';
}
