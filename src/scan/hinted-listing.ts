/**
 * A local file source's listing taken from the previous version's file index plus the paths a caller
 * says may have changed (`RefreshRequest.changedPaths`): only those paths are looked at, each as the
 * full listing would meet it — every name on the way visible, symlinks followed only while they stay
 * inside the source (`PATH_ESCAPE` otherwise), symlink loops cut, dangling links and non-regular files
 * left out, a directory listed whole, the `files` globs applied — and every indexed file outside them
 * is taken as the index has it. The result is what `listSourceFiles` returns when nothing outside the
 * hinted paths changed, at a cost in proportion to the hinted paths (plus one pass over the index).
 *
 * @module
 */
import * as fs from 'node:fs';
import { listLocal } from '../storage/local-list.js';
import { ioError, isNotFound } from '../storage/local-errors.js';
import type { LocalStorage } from '../storage/local.js';
import type { FileStat } from '../scanner.js';

/** The previous version's files in path order, as a listing with stats gives them. */
export interface IndexedFiles {
  paths: readonly string[];
  sizes: readonly number[];
  mtimes: readonly number[];
  /** ETags aligned with `paths`, when the index knows them (object stores). */
  etags?: readonly (string | undefined)[];
}

/** The listing rules of `listingRules` (scan/listing.ts). */
export interface ListingRules {
  visible: (name: string) => boolean;
  matches: (path: string) => boolean;
}

/**
 * The listing of `storage` with stats, in path order, from `index` with the `hinted` paths (normalized,
 * relative, not the root) looked at again; undefined when `index` is not in strictly ascending path
 * order (the merge relies on it). Names that are not valid UTF-8 met in a hinted directory go to `onSkip`.
 */
export function listHinted(
  storage: LocalStorage,
  rules: ListingRules,
  index: IndexedFiles,
  hinted: readonly string[],
  onSkip?: (message: string) => void,
): FileStat[] | undefined {
  const roots = outermost(hinted);
  const fresh: FileStat[] = [];
  for (const h of roots) for (const f of look(storage, rules, h, onSkip)) fresh.push(f);
  fresh.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let k = 1; k < fresh.length; k++) if (!(fresh[k - 1]!.path < fresh[k]!.path)) return undefined;
  return mergeHinted(index, roots, fresh);
}

/**
 * The index without its rows at or under `roots` (outermost hinted paths), merged with `fresh` (what
 * the storage holds there now, in strictly ascending path order); undefined when the index is not in
 * strictly ascending path order.
 */
export function mergeHinted(index: IndexedFiles, roots: readonly string[], fresh: readonly FileStat[]): FileStat[] | undefined {
  return merge(index, coveredRanges(index.paths, roots), fresh);
}

/** The hinted paths without those inside another hinted path (a hinted directory covers its subtree). */
export function outermost(hinted: readonly string[]): string[] {
  const set = new Set(hinted);
  const out: string[] = [];
  for (const h of set) {
    let inside = false;
    for (let i = h.indexOf('/'); i >= 0 && !inside; i = h.indexOf('/', i + 1)) inside = set.has(h.slice(0, i));
    if (!inside) out.push(h);
  }
  return out;
}

/** What the full listing holds at or under `rel`: nothing, one file, or a directory's files. */
function look(storage: LocalStorage, rules: ListingRules, rel: string, onSkip?: (message: string) => void): FileStat[] {
  const root = storage.root;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const parts = rel.split('/');
  // The real paths of symlinked directories passed through, as the full listing's walk keeps them.
  let seen: ReadonlySet<string> = new Set([root]);
  let at = '';
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i]!;
    if (!rules.visible(name)) return []; // the full listing never enters or lists it
    at = at === '' ? name : `${at}/${name}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(prefix + at);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw ioError(at, e);
    }
    let isDir = st.isDirectory();
    let isFile = st.isFile();
    if (st.isSymbolicLink()) {
      const real = storage.resolve(at); // PATH_ESCAPE when it leads out, as the full listing fails
      let target: fs.Stats;
      try {
        target = fs.statSync(real);
      } catch {
        return []; // dangling: not a file
      }
      isDir = target.isDirectory();
      isFile = target.isFile();
      if (isDir) {
        if (seen.has(real)) return []; // a symlink loop, which the full listing does not enter
        seen = new Set(seen).add(real);
      }
    }
    if (i < parts.length - 1) {
      if (!isDir) return [];
      continue;
    }
    if (isFile) {
      if (!rules.matches(at)) return [];
      const s = storage.statListedSync(at);
      return [{ path: at, size: s.size, mtimeMs: s.mtimeMs }];
    }
    if (!isDir) return []; // a FIFO, socket or device: never listed
    const steps = listLocal(root, (r) => storage.resolve(r), at, (n) => rules.visible(n), true, onSkip, seen);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value.filter((f) => rules.matches(f.path));
    }
  }
  return [];
}

/** Index rows at or under the hinted paths, as sorted, merged `[start, end)` ranges. */
function coveredRanges(paths: readonly string[], roots: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const h of roots) {
    const at = lowerBound(paths, h);
    if (paths[at] === h) ranges.push([at, at + 1]);
    // Every path under `h/` sorts between `h/` and `h0` ('0' follows '/').
    const from = lowerBound(paths, `${h}/`);
    const to = lowerBound(paths, `${h}0`);
    if (to > from) ranges.push([from, to]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** First row whose path is not below `p` (paths ascending). */
function lowerBound(paths: readonly string[], p: string): number {
  let lo = 0;
  let hi = paths.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (paths[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index without its covered rows, merged with the fresh entries, in path order. */
function merge(index: IndexedFiles, covered: readonly [number, number][], fresh: readonly FileStat[]): FileStat[] | undefined {
  const { paths, sizes, mtimes, etags } = index;
  const out: FileStat[] = new Array(paths.length + fresh.length);
  let n = 0;
  let r = 0;
  let j = 0;
  let prev = '';
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    if (i > 0 && !(prev < p)) return undefined;
    prev = p;
    while (r < covered.length && covered[r]![1] <= i) r++;
    if (r < covered.length && covered[r]![0] <= i) continue;
    while (j < fresh.length && fresh[j]!.path < p) out[n++] = fresh[j++]!;
    // A fresh entry at an uncovered indexed path cannot happen (both name the same hinted path); the index row yields.
    if (j < fresh.length && fresh[j]!.path === p) continue;
    const etag = etags?.[i];
    out[n++] = etag === undefined ? { path: p, size: sizes[i]!, mtimeMs: mtimes[i]! } : { path: p, size: sizes[i]!, mtimeMs: mtimes[i]!, etag };
  }
  while (j < fresh.length) out[n++] = fresh[j++]!;
  out.length = n;
  return out; // ascending: the index is, fresh entries are sorted and distinct (the hinted paths are disjoint subtrees)
}
