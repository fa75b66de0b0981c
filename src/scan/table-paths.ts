import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import { LocalStorage, isInside, normalizeRelative } from '../storage/local.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileStat, TableEntry } from '../scanner.js';
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
  const stat = storage instanceof LocalStorage ? localStatter(storage) : storage.statSync ? storage.statSync.bind(storage) : undefined;
  const out: TableEntry[] = [];
  for (const e of entries) {
    try {
      if (typeof e.path !== 'string' || e.path === '') throw new LakemapError('SCANNER_ERROR', `scanner "${format}" returned an entry without a path`);
      const st = stat ? stat(e.path) : await storage.stat(e.path);
      if (!st) throw new LakemapError('NOT_FOUND', `${format} table entry ${e.path} is not a file under ${storage.root}`, { path: e.path });
      out.push(st.path === e.path ? e : { ...e, path: st.path });
    } catch (err) {
      if (!skipInvalid || !LakemapError.is(err)) throw err;
      skip({ path: String(e.path), code: err.code, reason: err.message });
    }
  }
  return out;
}

/**
 * `LocalStorage.statSync` with the same answers, for the many paths of one table: a table's data files
 * share a few folders, so each folder's real path is resolved (and checked against the root) once,
 * and each file is `lstat`ed; only a file that is itself a symlink takes the storage's full
 * resolution. A realpath per file was most of an iceberg refresh's time (10,000 data files: ~180 ms).
 */
function localStatter(storage: LocalStorage): (rel: string) => FileStat | undefined {
  const realDirs = new Map<string, string | null>(); // folder (relative) → real path, null: does not exist
  return (rel) => {
    const clean = normalizeRelative(rel, storage.root);
    const slash = clean.lastIndexOf('/');
    const dir = slash < 0 ? '' : clean.slice(0, slash);
    let realDir = realDirs.get(dir);
    if (realDir === undefined) {
      try {
        realDir = fs.realpathSync.native(dir === '' ? storage.root : path.join(storage.root, ...dir.split('/')));
      } catch {
        realDir = null;
      }
      realDirs.set(dir, realDir);
    }
    // Anything unusual (a folder that leads out or is missing, a link, not a file): the storage decides.
    if (realDir === null || !isInside(realDir, storage.root)) return storage.statSync(rel);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(path.join(realDir, clean.slice(slash + 1)), { throwIfNoEntry: false });
    } catch {
      return storage.statSync(rel);
    }
    if (st === undefined || !st.isFile()) return storage.statSync(rel);
    return { path: clean, size: st.size, mtimeMs: st.mtimeMs };
  };
}
