import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import { LocalStorage, isInside, normalizeRelative } from '../storage/local.js';
import { isPlainRelative } from '../storage/paths.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { TableEntry } from '../scanner.js';
import type { SkippedFile } from '../types.js';

/**
 * Every path a table scanner returns goes through the storage's own resolution, as listed files do:
 * `..`, absolute paths, percent-encoded dot segments and symlinks that lead outside the source are
 * refused (`PATH_ESCAPE`), and a path that is not an existing regular file is `NOT_FOUND`. With
 * `skip_invalid` such entries are skipped instead.
 */
export async function checkTablePaths(
  storage: ScanStorage,
  format: string,
  entries: TableEntry[],
  skipInvalid: boolean,
  skip: (s: SkippedFile) => void,
): Promise<TableEntry[]> {
  const resolve = storage instanceof LocalStorage ? localResolver(storage, entries) : storage.statSync ? (rel: string) => storage.statSync!(rel)?.path : undefined;
  const out: TableEntry[] = [];
  for (const e of entries) {
    try {
      if (typeof e.path !== 'string' || e.path === '') throw new LakemapError('SCANNER_ERROR', `scanner "${format}" returned an entry without a path`);
      const found = resolve ? resolve(e.path) : (await storage.stat(e.path))?.path;
      if (found === undefined) throw new LakemapError('NOT_FOUND', `${format} table entry ${e.path} is not a file under ${storage.root}`, { path: e.path });
      out.push(found === e.path ? e : { ...e, path: found });
    } catch (err) {
      if (!skipInvalid || !LakemapError.is(err)) throw err;
      skip({ path: String(e.path), code: err.code, reason: err.message });
    }
  }
  return out;
}

/** References to one folder from which its names are read in one `readdir` instead of an `lstat` each. */
const LIST_AFTER = 8;

/**
 * The path `LocalStorage.statSync` gives (undefined: not a file there), for the many paths of one
 * table: a table's data files share a few folders, so each folder's real path is resolved (and checked
 * against the root) once, a folder referenced often is read once (`readdir` with file types), and
 * other files are `lstat`ed. Anything unusual — a folder that leads out or is missing, a name that is
 * a link or of unknown type, a name not found — takes the storage's own resolution, so the answers
 * and errors are the storage's. A realpath per file was most of an iceberg refresh's time (10,000
 * data files: ~180 ms); an `lstat` per file was still most of the check. The references of plain
 * paths (nearly all) are counted before the first is resolved, so a folder that will be listed is
 * listed at once rather than after `LIST_AFTER - 1` `lstat`s.
 */
function localResolver(storage: LocalStorage, entries: readonly TableEntry[]): (rel: string) => string | undefined {
  const realDirs = new Map<string, string | null>(); // folder (relative) → real path, null: missing or outside the root
  const counted = plainFolderRefs(entries);
  const refs = new Map<string, number>(); // references met so far, plain or not
  const listed = new Map<string, Set<string>>(); // folder → names of its regular files
  const slow = (rel: string): string | undefined => storage.statSync(rel)?.path;
  return (rel) => {
    // A plain path is its own normal form (checking is a few times cheaper than normalizing).
    const clean = isPlainRelative(rel) ? rel : normalizeRelative(rel, storage.root);
    const slash = clean.lastIndexOf('/');
    const dir = slash < 0 ? '' : clean.slice(0, slash);
    const name = clean.slice(slash + 1);
    let realDir = realDirs.get(dir);
    if (realDir === undefined) {
      try {
        realDir = fs.realpathSync.native(dir === '' ? storage.root : path.join(storage.root, ...dir.split('/')));
      } catch {
        realDir = null;
      }
      // Checked once per folder, not per file (path.relative per file was a tenth of this check).
      if (realDir !== null && !isInside(realDir, storage.root)) realDir = null;
      realDirs.set(dir, realDir);
    }
    if (realDir === null || name === '') return slow(rel);
    let names = listed.get(dir);
    if (!names) {
      const n = (refs.get(dir) ?? 0) + 1;
      refs.set(dir, n);
      if (n >= LIST_AFTER || (counted.get(dir) ?? 0) >= LIST_AFTER) {
        try {
          names = new Set<string>();
          for (const d of fs.readdirSync(realDir, { withFileTypes: true })) if (d.isFile()) names.add(d.name);
          listed.set(dir, names);
        } catch {
          // read it name by name
        }
      }
    }
    if (names) return names.has(name) ? clean : slow(rel);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(path.join(realDir, name), { throwIfNoEntry: false });
    } catch {
      return slow(rel);
    }
    return st?.isFile() ? clean : slow(rel);
  };
}

/** References per folder of the entries whose path is plain (its folder is then the text before the last `/`). */
function plainFolderRefs(entries: readonly TableEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (typeof e.path !== 'string' || !isPlainRelative(e.path)) continue;
    const dir = e.path.slice(0, Math.max(0, e.path.lastIndexOf('/')));
    counts.set(dir, (counts.get(dir) ?? 0) + 1);
  }
  return counts;
}
