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
  let u = uri.replace(/^s3[an]:\/\//, 's3://');
  if (u.startsWith('file://')) u = u.slice('file://'.length);
  else if (u.startsWith('file:/')) u = u.slice('file:'.length);
  return u.replace(/\/+$/, '');
}

/** Rebases paths of one table onto its source directory. */
export class TableRebaser {
  private readonly prefixes: string[] = [];

  constructor(private readonly storage: SourceStorage, location: string) {
    this.learn(normalizeUri(location));
    // A table read where it lives (an s3://… source whose metadata names s3://… files) maps in place.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storage.root)) this.learn(normalizeUri(storage.root));
  }

  private learn(prefix: string): void {
    if (!this.prefixes.includes(prefix)) {
      this.prefixes.push(prefix);
      this.prefixes.sort((a, b) => b.length - a.length); // longest first
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

  /** The source-relative path for a path as written, by the known prefixes only; undefined if none fits. */
  byPrefix(written: string): string | undefined {
    const uri = normalizeUri(written);
    for (const prefix of this.prefixes) {
      if (prefix === '' ) continue;
      if (uri.startsWith(prefix + '/')) {
        const rel = uri.slice(prefix.length + 1).replace(/^\/+/, '');
        if (rel !== '' && !rel.split('/').includes('..')) return rel;
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
          this.learn(parts.slice(0, i).join('/'));
          return suffix;
        }
      }
    }
    if (rel !== undefined) {
      throw new LakemapError('NOT_FOUND', `${what} ${written} maps to ${rel}, which does not exist under ${this.storage.root}`, { path: rel });
    }
    throw new LakemapError('NOT_FOUND', `${what} ${written} cannot be mapped onto ${this.storage.root}: it is not under the table location (${this.prefixes.join(' or ')})`, { path: written });
  }
}
