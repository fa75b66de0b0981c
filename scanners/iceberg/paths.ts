/**
 * Maps the absolute paths written in Iceberg metadata (`s3a://bucket/t/data/x.parquet`,
 * `/tmp/warehouse/t/...`, `data/persistent/t/...`) onto the table directory being scanned.
 *
 * The table `location` is the prefix to strip. Some tables were relocated after writing (their metadata
 * files still name the old place, or a different one than `location`); for a metadata file that no prefix
 * matches, the longest path suffix that exists under the source is taken, and the prefix it implies is
 * learnt for the files that follow, so data files of such tables map without a stat each.
 */
import { LakemapError, type SourceStorage } from '../../src/scanner.js';

/** `s3a://`, `s3n://` → `s3://`; `file:///x`, `file:/x` → `/x`; no trailing slash. */
export function normalizeUri(uri: string): string {
  // Plain prefix tests before any regex or copy: this runs for every data file of a table.
  let u = uri.startsWith('s3a://') || uri.startsWith('s3n://') ? `s3${uri.slice(3)}` : uri;
  if (u.startsWith('file://')) u = u.slice('file://'.length);
  else if (u.startsWith('file:/')) u = u.slice('file:'.length);
  return u.endsWith('/') ? u.replace(/\/+$/, '') : u;
}

/** `a/b` + `c` → `a/b/c`, with empty parts left out. */
function joinRel(base: string, rest: string): string {
  return base === '' ? rest : rest === '' ? base : `${base}/${rest}`;
}

/** The folder `levels` up from `rel` (`/`-separated), or undefined above the root. */
function up(rel: string, levels: number): string | undefined {
  const parts = rel === '' ? [] : rel.split('/');
  return levels > parts.length ? undefined : parts.slice(0, parts.length - levels).join('/');
}

/**
 * Rebases paths of one table onto its source. The table folder is `tablePath` inside the source (''
 * when the source is the table): files under the written `location` map below it, and files beside the
 * table (in a folder that shares an ancestor with `location`, as `add_files` and migrations leave them)
 * map when that ancestor is still inside the source. Anything further out is refused with
 * `PATH_ESCAPE`, naming the `table_path` spec key that would allow it.
 */
export class TableRebaser {
  /** Written prefix → folder relative to the source, longest prefix first. */
  private readonly prefixes: { prefix: string; base: string }[] = [];
  private readonly location: string;

  constructor(private readonly storage: SourceStorage, location: string, private readonly tablePath = '') {
    this.location = normalizeUri(location);
    this.learn(this.location, tablePath);
    // Ancestors of the location map to ancestors of the table folder, as far up as the source allows.
    const parts = this.location.split('/');
    const depth = tablePath === '' ? 0 : tablePath.split('/').length;
    for (let k = 1; k <= depth && parts.length - k >= minimumSharedParts(this.location); k++) {
      this.learn(parts.slice(0, parts.length - k).join('/'), up(tablePath, k)!);
    }
    // A table read where it lives (an s3://… source whose metadata names s3://… files) maps in place.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storage.root)) this.learn(normalizeUri(storage.root), '');
  }

  private learn(prefix: string, base: string): void {
    if (!this.prefixes.some((p) => p.prefix === prefix)) {
      this.prefixes.push({ prefix, base });
      this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    }
  }

  /** `stat`, treating a path the storage refuses (e.g. `PATH_ESCAPE`) as absent. */
  private async statQuietly(rel: string): Promise<unknown> {
    try {
      return await this.storage.stat(rel);
    } catch (e) {
      if (LakemapError.is(e, 'PATH_ESCAPE')) return undefined;
      throw e;
    }
  }

  /** The source-relative path for a path as written (`uri`: it normalized), by the known prefixes only; undefined if none fits. */
  byPrefix(written: string, uri = normalizeUri(written)): string | undefined {
    for (const { prefix, base } of this.prefixes) {
      if (prefix === '') continue;
      if (uri.startsWith(prefix + '/')) {
        let rel = uri.slice(prefix.length + 1);
        if (rel.startsWith('/')) rel = rel.replace(/^\/+/, '');
        if (rel !== '' && !(rel.includes('..') && rel.split('/').includes('..'))) return joinRel(base, rel);
      }
    }
    return undefined;
  }

  /**
   * The source-relative path of a file named in the metadata. `what` says what the file is (for the
   * error). With `probe` the file must exist, and an unmatched path is searched for by suffix.
   */
  async toSource(written: string, what: string, probe: boolean): Promise<string> {
    const rel = this.byPrefix(written);
    if (rel !== undefined && (!probe || (await this.statQuietly(rel)) !== undefined)) return rel;
    if (probe) {
      const uri = normalizeUri(written);
      const parts = uri.split('/');
      // Longest suffix first; at least a directory and a name, so a stray root file is never matched.
      for (let i = 1; i <= parts.length - 2; i++) {
        const suffix = parts.slice(i).join('/');
        if (parts[i] === '' || suffix.split('/').includes('..')) continue;
        if ((await this.statQuietly(suffix)) !== undefined) {
          this.learn(parts.slice(0, i).join('/'), '');
          return suffix;
        }
      }
    }
    if (rel !== undefined) {
      throw new LakemapError('NOT_FOUND', `${what} ${written} maps to ${rel}, which does not exist under ${this.storage.root}`, { path: rel });
    }
    this.refuseBesideTable(written, what);
    throw new LakemapError(
      'NOT_FOUND',
      `${what} ${written} cannot be mapped onto ${this.storage.root}: it shares no folder with the table location (${this.prefixes.map((p) => p.prefix).join(' or ')}), so it lives somewhere lakemap cannot reach from this source`,
      { path: written },
    );
  }

  /**
   * A file beside the table (sharing an ancestor folder with the table location) that the source does
   * not reach: PATH_ESCAPE, saying how far up it lies and which spec key lets a wider source map it.
   */
  private refuseBesideTable(written: string, what: string): void {
    const loc = this.location.split('/');
    const file = normalizeUri(written).split('/');
    let shared = 0;
    while (shared < loc.length && shared < file.length - 1 && loc[shared] === file[shared]) shared++;
    if (shared < minimumSharedParts(this.location) || shared === loc.length) return;
    const levels = loc.length - shared;
    const rest = file.slice(shared).join('/');
    throw new LakemapError(
      'PATH_ESCAPE',
      `${what} ${written} lies outside the table folder (${levels} folder${levels === 1 ? '' : 's'} above it, at <table>/${'../'.repeat(levels)}${rest}), ` +
        `outside the source ${this.storage.root}${this.tablePath ? ` (table_path ${JSON.stringify(this.tablePath)})` : ''}. ` +
        `To map it, make the source a folder that holds both the table and this file, and name the table folder inside it with the spec key table_path, ` +
        `or give the source as volume://<name>/<path to the table> of an engine volume whose directory holds both`,
      { path: written },
    );
  }
}

/**
 * How many leading `/`-parts two paths must share to count as "beside each other": past the scheme and
 * authority of a URI (`s3:`, '', `bucket`), past the leading '' of an absolute path, one part otherwise.
 */
function minimumSharedParts(location: string): number {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return 3;
  return location.startsWith('/') ? 2 : 1;
}

/** A view of `storage` rooted at the folder `sub` inside it (paths in and out are relative to `sub`). */
export function subStorage(storage: SourceStorage, sub: string | undefined): SourceStorage {
  if (!sub) return storage;
  const inner = (p: string) => joinRel(sub, p);
  const outer = <T extends { path: string }>(f: T): T => ({ ...f, path: f.path.slice(sub.length + 1) });
  return {
    root: `${storage.root.replace(/\/+$/, '')}/${sub}`,
    stat: async (p) => {
      const s = await storage.stat(inner(p));
      return s && outer(s);
    },
    read: (p, offset, length) => storage.read(inner(p), offset, length),
    readFile: (p, maxBytes) => storage.readFile(inner(p), maxBytes),
    list: async (dir) => (await storage.list(inner(dir ?? ''))).map(outer),
  };
}
