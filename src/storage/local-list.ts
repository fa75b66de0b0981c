// The local listing: every file under a folder of the root, in path order, with stats, in steps.
import * as fs from 'node:fs';
import type { FileStat } from '../scanner.js';
import { escapeBytes, normalizeRelative, utf8Name } from './paths.js';
import { ioError, isNotFound } from './local-errors.js';

/** Directory entries between two steps of {@link listLocal}. */
const LIST_STEP = 256;

/**
 * Lists `dir` under `root` (a real path) as `LocalStorage.listSteps` documents; `resolve` maps a
 * relative path to its real path, refusing one that leads out of the root (`PATH_ESCAPE`). `seen`:
 * the real paths of the symlinked directories the walk from the root to `dir` went through (and the
 * root), when `dir` is not the root (a hinted listing starts below it; see scan/hinted-listing.ts).
 */
export function* listLocal(
  root: string,
  resolve: (rel: string) => string,
  dir: string,
  filter: ((name: string, relDir: string) => boolean) | undefined,
  withStats: boolean,
  onSkip: ((message: string) => void) | undefined,
  seen: ReadonlySet<string> = new Set([root]),
): Generator<number, FileStat[], void> {
  const out: FileStat[] = [];
  const start = normalizeRelative(dir, root);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  let sinceStep = 0;
  function* walk(relDir: string, seen: ReadonlySet<string>): Generator<number, void, void> {
    const absDir = relDir === '' ? root : prefix + relDir;
    let entries: fs.Dirent[] | fs.Dirent<Buffer>[];
    try {
      entries = fs.readdirSync(absDir, { withFileTypes: true });
      // A name that is not valid UTF-8 comes back mangled (U+FFFD) and would then not be found under
      // its mangled name: such a folder is read again with names as bytes. Only then, as bytes cost
      // a Buffer per name (half the CPU of reading a folder; issue #10).
      if (entries.some((e) => e.name.includes('\uFFFD'))) entries = fs.readdirSync(absDir, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      if (isNotFound(e) && relDir === start) return;
      throw ioError(relDir || '.', e);
    }
    const dirPrefix = relDir === '' ? '' : `${relDir}/`;
    // Files and folders of this folder apart, each sorted (a folder by its name followed by "/",
    // as its paths sort), then walked merged in path order: the listing comes out sorted without sorting every path (a global sort of 100k paths
    // cost about as much as reading the folders).
    const files: string[] = [];
    const dirs: { name: string; key: string; seen: ReadonlySet<string> }[] = [];
    for (const ent of entries) {
      if (++sinceStep >= LIST_STEP) {
        sinceStep = 0;
        yield out.length;
      }
      const raw = ent.name;
      const name = typeof raw === 'string' ? raw : utf8Name(raw);
      if (name === undefined) {
        onSkip?.(`skipped ${dirPrefix}${escapeBytes(raw as Buffer)}: its name is not valid UTF-8`);
        continue;
      }
      if (filter && !filter(name, relDir)) continue;
      if (ent.isSymbolicLink()) {
        const real = resolve(dirPrefix + name); // throws PATH_ESCAPE when it leads out
        let st: fs.Stats;
        try {
          st = fs.statSync(real);
        } catch {
          continue; // dangling link: not a file
        }
        if (st.isDirectory()) {
          if (!seen.has(real)) dirs.push({ name, key: `${name}/`, seen: new Set(seen).add(real) }); // else a symlink loop
        } else if (st.isFile()) files.push(name);
      } else if (ent.isDirectory()) dirs.push({ name, key: `${name}/`, seen });
      else if (ent.isFile()) files.push(name);
    }
    files.sort();
    if (dirs.length > 1) dirs.sort((a, b) => (a.key < b.key ? -1 : 1));
    let d = 0;
    let dirKey = dirs[0]?.key;
    for (const name of files) {
      while (dirKey !== undefined && dirKey < name) {
        const dir = dirs[d++]!;
        yield* walk(dirPrefix + dir.name, dir.seen);
        dirKey = dirs[d]?.key;
      }
      const rel = dirPrefix + name;
      if (!withStats) out.push({ path: rel, size: -1, mtimeMs: -1 });
      else {
        if (++sinceStep >= LIST_STEP) {
          sinceStep = 0;
          yield out.length;
        }
        const st = fs.statSync(prefix + rel);
        out.push({ path: rel, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    for (; d < dirs.length; d++) yield* walk(dirPrefix + dirs[d]!.name, dirs[d]!.seen);
    yield out.length;
  }
  if (start !== '') resolve(start);
  yield* walk(start, seen);
  return out;
}
