/**
 * What a refresh needs of the previous version to decide that nothing changed: its header (spec,
 * source, fields …) and a compact file index — path, size, mtime (and the ETag where known) — taken
 * either from a chunked version's root and index chunks (no entries, no segments read) or from a
 * manifest already in memory. Both are validated before they are trusted.
 *
 * @module
 */
import type { FileStat } from '../scanner.js';
import type { Manifest, RefreshChangeSet } from '../types.js';
import type { FileIndex, LoadedFileIndex, ManifestRoot } from './chunks.js';
import { DigestSum, isDigest } from './digest.js';

/** The previous version as a no-change check sees it. */
export interface PreviousIndex {
  /** The version's header (a chunked root, or the manifest itself). */
  header: Pick<Manifest, 'version' | 'format' | 'externalSource' | 'resolvedSource' | 'externalSpec' | 'fields' | 'skipped' | 'warnings'>;
  /** Paths in manifest order. */
  paths: readonly string[];
  /** Sizes, aligned with `paths`. */
  sizes: readonly number[];
  /** Modification times, aligned with `paths`. */
  mtimes: readonly number[];
  /** ETags aligned with `paths`, when known (an in-memory manifest); absent from a file index. */
  etags?: readonly (string | undefined)[];
  /** Segments of the version. */
  segmentCount: number;
  /**
   * A chunked version's root and its index's summary columns (fingerprints, rows, segments and
   * digest per file, the chunk holding each entry), when its chunks carry them: what a refresh
   * needs to build the next version from the files that changed alone.
   */
  chunked?: ChunkedIndex;
}

/** The parts of a chunked version a refresh updates from a change (see {@link PreviousIndex.chunked}). */
export interface ChunkedIndex {
  root: ManifestRoot & { filesDigest: string };
  fingerprints: readonly string[];
  rows: readonly number[];
  live: readonly number[];
  segs: readonly number[];
  digests: readonly string[];
  chunkOf: readonly number[];
}

/** The {@link ChunkedIndex} of a validated root and file index, when the index has the summary columns. */
export function chunkedIndex(root: ManifestRoot, index: LoadedFileIndex): ChunkedIndex | undefined {
  const { rows, live, segs, digests } = index;
  if (!rows || !live || !segs || !digests || root.filesDigest === undefined) return undefined;
  return { root: root as ChunkedIndex['root'], fingerprints: index.fingerprints, rows, live, segs, digests, chunkOf: index.chunkOf };
}

// Indexes of manifests held in memory: an engine holding a version refreshes it again and again, and
// a manifest is never changed once built, so its columns are made once (four arrays of 100k at 100k files).
const indexes = new WeakMap<Manifest, { files: readonly unknown[]; segments: readonly unknown[]; index: PreviousIndex }>();

/** The index of a manifest held in memory (made once per manifest object). */
export function indexOfManifest(m: Manifest): PreviousIndex {
  const hit = indexes.get(m);
  if (hit && hit.files === m.files && hit.segments === m.segments && hit.index.paths.length === m.files.length) return hit.index;
  const index = makeIndex(m);
  indexes.set(m, { files: m.files, segments: m.segments, index });
  return index;
}

function makeIndex(m: Manifest): PreviousIndex {
  const n = m.files.length;
  const paths = new Array<string>(n);
  const sizes = new Array<number>(n);
  const mtimes = new Array<number>(n);
  const etags = new Array<string | undefined>(n);
  for (let i = 0; i < n; i++) {
    const f = m.files[i]!;
    paths[i] = f.path;
    sizes[i] = f.sizeBytes;
    mtimes[i] = f.mtimeMs;
    etags[i] = f.etag;
  }
  return { header: m, paths, sizes, mtimes, etags, segmentCount: m.segments.length };
}

/**
 * Problems of a chunked root and the file index loaded from it, empty when both are sound: the
 * header's shape, counts, and an index whose columns align, whose paths are distinct non-empty
 * strings, sizes non-negative safe integers and mtimes times, with as many files as the root says.
 */
export function fileIndexProblems(root: ManifestRoot, index: FileIndex, expectedVersion: number): string[] {
  const problems: string[] = [];
  const isObj = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (root.manifestFormat !== 2) problems.push(`manifestFormat is ${JSON.stringify(root.manifestFormat)}, expected 2`);
  if (root.version !== expectedVersion) problems.push(`holds version ${JSON.stringify(root.version)}, expected ${expectedVersion}`);
  for (const k of ['format', 'externalSource', 'resolvedSource', 'contentHash'] as const) if (typeof root[k] !== 'string') problems.push(`${k} is not a string`);
  if (!isObj(root.externalSpec) || typeof root.externalSpec.format !== 'string') problems.push('externalSpec is not a spec object');
  if (!Array.isArray(root.fields) || !Array.isArray(root.skipped) || !Array.isArray(root.chunks)) problems.push('fields, skipped or chunks is not a list');
  for (const k of ['fileCount', 'segmentCount'] as const) if (!(Number.isSafeInteger(root[k]) && root[k] >= 0)) problems.push(`${k} is not a non-negative integer`);
  if (problems.length) return problems;
  const n = index.paths.length;
  if (n !== root.fileCount) problems.push(`the file index holds ${n} files, the root says ${root.fileCount}`);
  if (index.sizes.length !== n || index.mtimes.length !== n || index.fingerprints.length !== n) problems.push('the file index columns do not align');
  if (problems.length) return problems;
  if (soundInOrder(index)) return summaryProblems(root, index);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = index.paths[i];
    const size = index.sizes[i];
    const mtime = index.mtimes[i];
    if (typeof p !== 'string' || p === '' || typeof index.fingerprints[i] !== 'string') problems.push(`file ${i} lacks a path or fingerprint`);
    else if (seen.has(p)) problems.push(`${p} is listed twice`);
    else seen.add(p);
    if (!(Number.isSafeInteger(size) && size! >= 0)) problems.push(`file ${i}: size ${JSON.stringify(size)} is not a non-negative integer`);
    if (!(typeof mtime === 'number' && Number.isFinite(mtime) && mtime >= 0)) problems.push(`file ${i}: mtime ${JSON.stringify(mtime)} is not a time`);
    if (problems.length >= 20) break;
  }
  if (problems.length) return problems;
  return summaryProblems(root, index);
}

/**
 * True when every file has a path, a fingerprint, a size and an mtime, and the paths ascend strictly
 * (so they are distinct without a set of 100k strings): the common case, checked in one cheap pass.
 * False sends {@link fileIndexProblems} through its slower pass that names each problem.
 */
function soundInOrder(index: FileIndex): boolean {
  const { paths, sizes, mtimes, fingerprints } = index;
  let prev = '';
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    const size = sizes[i];
    const mtime = mtimes[i];
    if (typeof p !== 'string' || p <= prev || typeof fingerprints[i] !== 'string') return false;
    if (!(Number.isSafeInteger(size) && size! >= 0 && typeof mtime === 'number' && Number.isFinite(mtime) && mtime >= 0)) return false;
    prev = p;
  }
  return true;
}

/**
 * The summary columns (rows, live rows, segments per file) must be sound and add up to the root's
 * totals and segment count: a refresh derives the next version's from them. The digests are checked
 * by {@link digestProblems} only where they are used (a refresh from a change), not on every
 * no-change check.
 */
function summaryProblems(root: ManifestRoot, index: FileIndex): string[] {
  const { rows, segs, digests } = index;
  const live = index.live ?? rows;
  if (!rows && !segs && !digests && !index.live) return root.filesDigest === undefined ? [] : ['the root has a files digest but its chunks lack the summary columns'];
  if (!rows || !segs || !digests || !live) return ['some chunks lack the summary columns'];
  if (!isDigest(root.filesDigest)) return ['filesDigest is not 16 hex digits'];
  if (digests.length !== rows.length) return ['the digest column does not align'];
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  let physical = 0;
  let liveSum = 0;
  let segments = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const l = live[i];
    const s = segs[i];
    if (!count(r) || !count(l) || !count(s) || l > r) return [`file ${i}: its rows, live rows or segment count is malformed`];
    physical += r;
    liveSum += l;
    segments += s;
  }
  const problems: string[] = [];
  if (physical !== root.physicalRows || liveSum !== root.totalRows) problems.push(`the file index sums to ${liveSum}/${physical} rows, the root says ${root.totalRows}/${root.physicalRows}`);
  if (segments !== root.segmentCount) problems.push(`the file index counts ${segments} segments, the root says ${root.segmentCount}`);
  return problems;
}

/** Problems of a chunked index's file digests: each 16 hex digits, summing to the root's files digest. */
export function digestProblems(c: ChunkedIndex): string[] {
  const sum = new DigestSum();
  for (let i = 0; i < c.digests.length; i++) {
    const d = c.digests[i];
    if (typeof d !== 'string' || !sum.add(d)) return [`file ${i}: digest ${JSON.stringify(d)} is not 16 hex digits`];
  }
  return sum.hex() === c.root.filesDigest ? [] : [`the file digests sum to ${sum.hex()}, the root says ${c.root.filesDigest}`];
}

/**
 * True when a listing (with stats) shows exactly the files of `prev`, each with the same size and
 * mtime (and ETag: a listed ETag the index cannot vouch for counts as a change). Listing order is
 * usually the index's, so the common case needs no map.
 */
export function sameFiles(prev: PreviousIndex, listed: readonly FileStat[]): boolean {
  const n = prev.paths.length;
  if (listed.length !== n) return false;
  const same = (s: FileStat, i: number): boolean =>
    s.size >= 0 && s.size === prev.sizes[i] && s.mtimeMs === prev.mtimes[i] && s.etag === (prev.etags ? prev.etags[i] : undefined);
  let i = 0;
  for (; i < n; i++) {
    const s = listed[i]!;
    if (s.path !== prev.paths[i]) break;
    if (!same(s, i)) return false;
  }
  if (i === n) return true;
  const at = new Map<string, number>();
  for (let j = i; j < n; j++) at.set(prev.paths[j]!, j);
  for (let j = i; j < n; j++) {
    const s = listed[j]!;
    const k = at.get(s.path);
    if (k === undefined || !same(s, k)) return false;
    at.delete(s.path);
  }
  return at.size === 0;
}

/** The change set of a refresh that found nothing changed. */
export function unchangedSet(prev: PreviousIndex): RefreshChangeSet {
  return {
    files: { added: 0, removed: 0, modified: 0, unchanged: prev.paths.length },
    segments: { added: 0, removed: 0, kept: prev.segmentCount },
    addedPaths: [],
    removedPaths: [],
    modifiedPaths: [],
  };
}

/** JSON with object keys sorted, so two specs that differ only in key order compare equal. */
/**
 * Why a version (its header) was not made from this definition on this resolved source: another
 * source or format, or another spec or fields; undefined when it was. A refresh builds on a previous
 * version's index only when it was.
 */
export function madeOtherwise(
  header: Pick<Manifest, 'format' | 'externalSource' | 'resolvedSource' | 'externalSpec' | 'fields'>,
  def: { externalSource: string; externalSpec: unknown; fields: unknown },
  resolvedSource: string,
): string | undefined {
  const spec = def.externalSpec as { format?: unknown };
  if (header.format !== spec.format || header.externalSource !== def.externalSource || header.resolvedSource !== resolvedSource) {
    return 'the previous version was made from another source or format';
  }
  if (stableJson(header.externalSpec) !== stableJson(spec) || stableJson(header.fields) !== stableJson(def.fields)) return 'the previous version was made with another spec or fields';
  return undefined;
}

export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x,
  );
}
