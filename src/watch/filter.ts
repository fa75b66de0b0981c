// Which changed paths can matter to a collection's refresh.
import { fileGlobs, globMatcher } from '../engine/definition.js';
import type { ExternalSpec, Scanner } from '../scanner.js';

/** Decides, from a path alone, whether a change may alter the collection. */
export interface ChangeFilter {
  /** True when a change at `path` (relative, `/`-separated; a file or a directory) may matter. */
  accepts(path: string): boolean;
  /** True when a directory may hold paths that matter (pollers and watchers skip the others). */
  descends(dir: string): boolean;
  /**
   * File formats only: true when a refresh's full listing may list something at or under `path` (no
   * name on it starts with `.` or `_`). Wider than `accepts`: such a path must be in a refresh's
   * `changedPaths` even when it does not trigger one (a directory renamed to `x.tmp` is still listed).
   */
  lists?(path: string): boolean;
}

// Names editors, downloaders and writers use while a file is incomplete.
const TEMP = /(?:^\.|^_|~$|\.(?:tmp|temp|swp|swx|part|partial|crdownload|inprogress)$|^#.*#$)/i;

/** True for hidden and temporary names; the engine never maps `.` and `_` names either. */
export function ignoredName(name: string): boolean {
  return TEMP.test(name);
}

/**
 * The filter for a collection: for file formats, its `files` globs or the scanner's extensions
 * (plus directories, whose removal or arrival moves whole files); for lance and iceberg tables, only
 * their commit files, which are written last, so a half-written commit never triggers.
 * `excluded` is a path (relative to the source) never to report: lakemap's own root when it lies inside.
 */
export function changeFilter(scanner: Scanner | undefined, spec: ExternalSpec, excluded?: string): ChangeFilter {
  const outside = (p: string): boolean => excluded !== undefined && (p === excluded || p.startsWith(`${excluded}/`));
  if (scanner?.kind === 'table' && (spec.format === 'lance-table' || spec.format === 'iceberg-table')) {
    const commitDir = spec.format === 'lance-table' ? '_versions' : 'metadata';
    const isCommit =
      spec.format === 'lance-table'
        ? (p: string) => (p.startsWith('_versions/') && p.endsWith('.manifest')) || p === '_latest.manifest' || p === '_versions'
        : (p: string) => p === 'metadata' || (p.startsWith('metadata/') && /(?:\.metadata\.json(?:\.gz)?|\.gz\.metadata\.json|\/version-hint\.text)$/.test(p));
    return {
      accepts: (p) => !outside(p) && isCommit(p),
      descends: (d) => d === '' || d === commitDir,
    };
  }
  if (scanner?.kind === 'table') {
    // A table format we know nothing about: anything not hidden may be a commit.
    const visible = (p: string) => !p.split('/').some(ignoredName);
    return { accepts: (p) => !outside(p) && visible(p), descends: (d) => !outside(d) && visible(d) };
  }
  const globs = fileGlobs(spec);
  const extensions = scanner?.kind === 'file' ? scanner.extensions : [];
  const matches = globs ? globMatcher(globs) : (p: string) => extensions.some((e) => p.endsWith(e));
  const visible = (p: string) => !p.split('/').some(ignoredName);
  // A name without a dot is most likely a directory (a partition, a day …): its arrival or removal
  // moves whole files, and a removed directory can no longer be stat'ed to tell.
  const maybeDir = (p: string) => !p.slice(p.lastIndexOf('/') + 1).includes('.');
  const listed = (p: string) => !p.split('/').some((n) => n.startsWith('.') || n.startsWith('_'));
  return {
    accepts: (p) => !outside(p) && visible(p) && (matches(p) || maybeDir(p)),
    descends: (d) => d === '' || (!outside(d) && visible(d)),
    lists: (p) => !outside(p) && listed(p),
  };
}
