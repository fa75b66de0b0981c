/**
 * The chunked manifest format (`manifestFormat: 2`): one version is a small **root** plus
 * content-addressed **chunks** shared between versions, so a commit writes what changed, not the lake.
 *
 * - A chunk holds a run of files in manifest order as two objects with the same id: a compact
 *   **file index** (`<id>.i.json`: paths, sizes, mtimes, fingerprints, and per file rows, live
 *   rows, segment count and file digest, columnar) that a no-change check, and a refresh built from
 *   a change (`engine/refresh-change.ts`), load alone, and the **entries** (`<id>.c.json`: rows, units, details and segments as
 *   `[id, rowOffset, rows]` triples; path, size, mtime and fingerprint live in the index only).
 *   The id is a digest of both, so equal content is written once and reused by every version.
 * - **Base** chunks cut the files into fixed runs of `chunkFiles` in manifest order.
 * - For path-ordered manifests (file formats), a commit that changes a few files writes one
 *   **delta** chunk instead: the changed or new files (path order) and the removed paths. Readers
 *   apply deltas in order over the base (a later entry replaces a path; `removed` drops it). When the
 *   deltas grow past a fraction of the files, the next commit writes fresh base chunks (compaction);
 *   runs whose content did not change keep their ids and are not written again.
 * - The root holds everything else of the {@link Manifest} (schema, counts, definition) and the chunk
 *   list, so a summary (rows, files, segments, schema) needs the root alone.
 *
 * A version file with `manifestFormat: 1` (a whole manifest in one JSON document, as written before)
 * still loads: {@link loadManifestVersion} returns it as it is.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isPathOrdered, manifestDigests, segmentsPerFile } from './digest.js';
import type { Manifest, ManifestFile, Segment } from '../types.js';

export { assembleManifest, chunkIds, loadFileIndex, loadManifestVersion, readVerifiedChunk, walkManifest } from './chunk-read.js';

/** Files per base chunk by default: ~1 MiB of JSON for small parquet files. */
export const DEFAULT_CHUNK_FILES = 2048;
/** Deltas are compacted into fresh base chunks once they hold more than this share of the files. */
export const DEFAULT_MAX_DELTA_FRACTION = 0.2;
/** Deltas are compacted once there are more than this many. */
export const MAX_DELTAS = 16;

/** A chunk as the root lists it. */
export interface ChunkRef {
  /** Content digest (32 hex digits) of the chunk's index and entries. */
  id: string;
  /** `base`: a run of the files; `delta`: replaced/new files and removed paths over the chunks before it. */
  kind: 'base' | 'delta';
  /** File entries in the chunk. */
  files: number;
  /** Paths a delta removes (0 for a base chunk). */
  removed: number;
  /** Segments of those entries. */
  segments: number;
  /** Bytes of the two chunk objects. */
  bytes: number;
}

/** The root of a chunked version: the manifest without its files and segments, plus the chunk list. */
export interface ManifestRoot extends Omit<Manifest, 'manifestFormat' | 'files' | 'segments'> {
  /** Layout version: 2 for chunked manifests. */
  manifestFormat: 2;
  /** Files in the version. */
  fileCount: number;
  /** Segments in the version. */
  segmentCount: number;
  /** Files per base chunk this version was cut with. */
  chunkFiles: number;
  /** True when files are in strictly ascending path order (deltas are only used then). */
  pathOrdered: boolean;
  /** Chunks, base chunks first, then deltas in the order they apply. */
  chunks: ChunkRef[];
  /**
   * Sum of the file digests (16 hex digits, see `digest.ts`), from which a refresh updates the
   * content hash; absent in roots written before it (their chunks lack the summary columns too).
   */
  filesDigest?: string;
}

/** Compact per-chunk file index, loadable without entries or segments. */
export interface FileIndex {
  /** Paths, in chunk order. */
  paths: string[];
  /** Sizes in bytes. */
  sizes: number[];
  /** Modification times, epoch ms. */
  mtimes: number[];
  /** Fingerprints. */
  fingerprints: string[];
  /** Paths removed by a delta chunk (absent in base chunks). */
  removed?: string[];
  /** Physical rows per file (absent in chunks written before the summary columns). */
  rows?: number[];
  /** Live rows per file, when some differ from `rows` (absent: the same as `rows`). */
  live?: number[];
  /** Segments per file. */
  segs?: number[];
  /** File digests (see `digest.ts`). */
  digests?: string[];
}

/** A version's file index with where each row came from: `chunkOf[i]` indexes the root's chunk list. */
export interface LoadedFileIndex extends FileIndex {
  /** For each file, the position in `root.chunks` of the chunk holding its entry. */
  chunkOf: number[];
}

/** One file's entry in a chunk, aligned with the index; segments as `[id, rowOffset, rows]`. */
interface ChunkEntry extends Omit<ManifestFile, 'path' | 'sizeBytes' | 'mtimeMs' | 'fingerprint'> {
  segs: [string, number, number][];
}

/** The entries object of a chunk. */
export interface ChunkEntries {
  entries: ChunkEntry[];
}

/** A chunk serialized: its id and the text of its two objects. */
export interface EncodedChunk {
  /** Content digest. */
  id: string;
  /** Segments in the chunk. */
  segments: number;
  /** Text of `<id>.i.json`. */
  index: string;
  /** Text of `<id>.c.json`. */
  entries: string;
  /**
   * The UTF-8 bytes of both texts, when the encoder made them: it hashes them, and a writer that
   * writes them saves converting megabytes of text again (and twice more to count its bytes).
   */
  bytes?: { index: Uint8Array; entries: Uint8Array };
}

/** A file with its segments, as `walkManifest` and `RefreshEngine.streamManifest` yield them. */
export interface FileWithSegments {
  /** The file entry. */
  file: ManifestFile;
  /** Its segments, in row order. */
  segments: Segment[];
}

/** Reads a chunk's objects back (from disk, a cache …). */
export interface ChunkSource {
  /** Text of `<id>.i.json`. */
  index(id: string): string;
  /** Text of `<id>.c.json`. */
  entries(id: string): string;
}

/** Options of {@link splitManifest}. */
export interface SplitOptions {
  /** Files per base chunk (default {@link DEFAULT_CHUNK_FILES}). */
  chunkFiles?: number;
  /** The previous version: its root and its manifest, to write a delta when little changed. */
  previous?: { root: ManifestRoot; manifest: Manifest };
  /** Share of the files the deltas may hold before compaction (default {@link DEFAULT_MAX_DELTA_FRACTION}). */
  maxDeltaFraction?: number;
  /**
   * Takes each new base chunk as soon as it is encoded, instead of collecting it in
   * {@link SplitManifest.chunks}: a commit that writes it at once holds one chunk's text at a time,
   * not the whole version's (tens of MB at 100k files).
   */
  onChunk?: (chunk: EncodedChunk) => void;
}

/** The root of `m` and the chunks it references that {@link SplitOptions.previous} did not already have. */
export interface SplitManifest {
  /** The root to write as the version file. */
  root: ManifestRoot;
  /** Chunks to write (exclusive create; one that exists already has the same content). */
  chunks: EncodedChunk[];
}

/** Splits a manifest into a root and chunks, writing a delta over `options.previous` when little changed. */
export function splitManifest(m: Manifest, options: SplitOptions = {}): SplitManifest {
  const chunkFiles = options.chunkFiles ?? options.previous?.root.chunkFiles ?? DEFAULT_CHUNK_FILES;
  if (!Number.isSafeInteger(chunkFiles) || chunkFiles < 1) throw new RangeError(`chunkFiles must be a positive integer, got ${chunkFiles}`);
  const perFile = filesSegments(m);
  const pathOrdered = isPathOrdered(m.files);
  const digests = manifestDigests(m, (i) => perFile[i]!);
  const header = { ...rootHeader(m, chunkFiles, pathOrdered), filesDigest: digests.sum };

  const prev = options.previous;
  // A delta is only as right as its base: the previous manifest must be the one its root encodes.
  const sameBase =
    prev !== undefined &&
    prev.root.version === prev.manifest.version &&
    prev.root.contentHash === prev.manifest.contentHash &&
    prev.root.fileCount === prev.manifest.files.length &&
    prev.root.segmentCount === prev.manifest.segments.length;
  // Deltas only over a root whose chunks carry the summary columns (written with filesDigest).
  if (prev && sameBase && pathOrdered && prev.root.pathOrdered && prev.root.chunkFiles === chunkFiles && prev.root.filesDigest !== undefined) {
    const groups = new Map<string, readonly Segment[]>();
    m.files.forEach((f, i) => groups.set(f.path, perFile[i]!));
    const delta = deltaOver(prev.manifest, m, groups);
    const priorDeltaFiles = prev.root.chunks.reduce((n, c) => n + (c.kind === 'delta' ? c.files + c.removed : 0), 0);
    const deltas = prev.root.chunks.filter((c) => c.kind === 'delta').length;
    const budget = (options.maxDeltaFraction ?? DEFAULT_MAX_DELTA_FRACTION) * Math.max(1, m.files.length);
    if (delta && priorDeltaFiles + delta.files.length + delta.removed.length <= budget && deltas < MAX_DELTAS) {
      if (delta.files.length === 0 && delta.removed.length === 0) return { root: { ...header, chunks: prev.root.chunks }, chunks: [] };
      const digestOf = new Map<string, string>();
      m.files.forEach((f, i) => digestOf.set(f.path, digests.digests[i]!));
      const chunk = encodeChunk(delta.files, delta.files.map((f) => groups.get(f.path) ?? []), delta.files.map((f) => digestOf.get(f.path)!), delta.removed);
      return { root: { ...header, chunks: [...prev.root.chunks, ref(chunk, 'delta', delta.files.length, delta.removed.length)] }, chunks: [chunk] };
    }
  }
  const known = new Set(prev?.root.chunks.map((c) => c.id));
  const refs: ChunkRef[] = [];
  const chunks: EncodedChunk[] = [];
  for (let start = 0; start < m.files.length; start += chunkFiles) {
    const files = m.files.slice(start, start + chunkFiles);
    const chunk = encodeChunk(files, perFile.slice(start, start + chunkFiles), digests.digests.slice(start, start + chunkFiles));
    refs.push(ref(chunk, 'base', files.length, 0));
    if (known.has(chunk.id)) continue;
    if (options.onChunk) options.onChunk(chunk);
    else chunks.push(chunk);
  }
  return { root: { ...header, chunks: refs }, chunks };
}

// ---- encoding ----

/**
 * A chunk of `files` (with their segments and file digests); `removed` makes it a delta. The index
 * carries each file's rows, live rows, segment count and digest, so a refresh can update a version's
 * totals and content hash without reading the entries of files it did not change.
 */
export function encodeChunk(files: readonly ManifestFile[], segs: readonly (readonly Segment[])[], digests: readonly string[], removed?: string[]): EncodedChunk {
  const index: FileIndex = {
    paths: files.map((f) => f.path),
    sizes: files.map((f) => f.sizeBytes),
    mtimes: files.map((f) => f.mtimeMs),
    fingerprints: files.map((f) => f.fingerprint),
  };
  if (removed) index.removed = removed;
  index.rows = files.map((f) => f.rows);
  if (files.some((f) => f.liveRows !== f.rows)) index.live = files.map((f) => f.liveRows);
  index.segs = segs.map((l) => l.length);
  index.digests = digests.slice();
  const entries: ChunkEntries = { entries: files.map((f, i) => chunkEntry(f, segs[i]!)) };
  const indexText = JSON.stringify(index);
  const entriesText = JSON.stringify(entries);
  const bytes = { index: Buffer.from(indexText), entries: Buffer.from(entriesText) };
  const id = createHash('sha256').update(bytes.index).update('\n').update(bytes.entries).digest('hex').slice(0, 32);
  let segments = 0;
  for (const list of segs) segments += list.length;
  return { id, segments, index: indexText, entries: entriesText, bytes };
}

/**
 * A file's entry: its keys in their order, less those the index holds, plus its segments. A key
 * loop, not `const { path, ...rest } = f`: object rest was two thirds of encoding a chunk, and
 * the text (so the chunk id) is the same.
 */
function chunkEntry(f: ManifestFile, segs: readonly Segment[]): ChunkEntry {
  const e: Record<string, unknown> = {};
  for (const k in f) if (k !== 'path' && k !== 'sizeBytes' && k !== 'mtimeMs' && k !== 'fingerprint') e[k] = f[k as keyof ManifestFile];
  const list = new Array<[string, number, number]>(segs.length);
  for (let j = 0; j < segs.length; j++) list[j] = [segs[j]!.id, segs[j]!.ranges[0]!.rowOffset, segs[j]!.rows];
  e['segs'] = list;
  return e as unknown as ChunkEntry;
}

/** The root's reference to an encoded chunk. */
export function ref(c: EncodedChunk, kind: ChunkRef['kind'], files: number, removed: number): ChunkRef {
  const bytes = c.bytes ? c.bytes.index.length + c.bytes.entries.length : Buffer.byteLength(c.index) + Buffer.byteLength(c.entries);
  return { id: c.id, kind, files, removed, segments: c.segments, bytes };
}

function rootHeader(m: Manifest, chunkFiles: number, pathOrdered: boolean): Omit<ManifestRoot, 'chunks'> {
  const { files: _f, segments: _s, manifestFormat: _m, ...rest } = m;
  return { manifestFormat: 2, ...rest, fileCount: m.files.length, segmentCount: m.segments.length, chunkFiles, pathOrdered };
}

/**
 * The segments of each file of `m`, aligned with its files: those `buildManifest` cut (no map from
 * path to segments then), else grouped by path. Every segment must have one range.
 */
function filesSegments(m: Manifest): readonly (readonly Segment[])[] {
  const built = segmentsPerFile(m);
  if (built) {
    for (const s of m.segments) if (s.ranges.length !== 1) throw new Error(`segment ${s.id} spans ${s.ranges.length} ranges; chunks keep one range per segment`);
    return built;
  }
  const groups = segmentsByFile(m);
  return m.files.map((f) => groups.get(f.path) ?? []);
}

/** Segments grouped by their file's path; every segment must belong to one file of the manifest. */
function segmentsByFile(m: Manifest): Map<string, Segment[]> {
  const out = new Map<string, Segment[]>();
  for (const s of m.segments) {
    if (s.ranges.length !== 1) throw new Error(`segment ${s.id} spans ${s.ranges.length} ranges; chunks keep one range per segment`);
    const p = s.ranges[0]!.path;
    const list = out.get(p);
    if (list) list.push(s);
    else out.set(p, [s]);
  }
  return out;
}

/** What changed from `prev` to `next`: entries to write and paths to drop; undefined when prev is not path-ordered. */
function deltaOver(prev: Manifest, next: Manifest, groups: Map<string, readonly Segment[]>): { files: ManifestFile[]; removed: string[] } | undefined {
  if (!isPathOrdered(prev.files)) return undefined;
  const prevGroups = segmentsByFile(prev);
  const byPath = new Map(prev.files.map((f) => [f.path, f]));
  const files: ManifestFile[] = [];
  for (const f of next.files) {
    const old = byPath.get(f.path);
    byPath.delete(f.path);
    if (old && sameFile(old, f) && sameSegments(prevGroups.get(f.path), groups.get(f.path))) continue;
    files.push(f);
  }
  return { files, removed: [...byPath.keys()] };
}

function sameFile(a: ManifestFile, b: ManifestFile): boolean {
  if (a === b) return true;
  if (a.path !== b.path || a.fingerprint !== b.fingerprint || a.sizeBytes !== b.sizeBytes || a.mtimeMs !== b.mtimeMs) return false;
  return deepEqual(a, b);
}

/** Structural equality of JSON values (manifest entries are plain JSON). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    n++;
    if (!deepEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) n--;
  return n === 0;
}

function sameSegments(a: readonly Segment[] | undefined, b: readonly Segment[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((s, i) => s.id === b[i]!.id && s.rows === b[i]!.rows && s.ranges[0]!.rowOffset === b[i]!.ranges[0]!.rowOffset);
}
