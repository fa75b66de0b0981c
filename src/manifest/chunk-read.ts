/**
 * Reading the chunked manifest format (see chunks.ts for the format): a version's whole manifest, a
 * walk one chunk at a time, the file index alone, and a chunk verified against its id.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { ChunkEntries, ChunkSource, FileIndex, FileWithSegments, LoadedFileIndex, ManifestRoot } from './chunks.js';
import type { Manifest, ManifestFile, Segment } from '../types.js';
import { mergeOrdered } from './index-merge.js';

/** Every chunk id a root references (for pruning: a chunk no kept root references can go). */
export function chunkIds(root: ManifestRoot): string[] {
  return root.chunks.map((c) => c.id);
}

/**
 * Loads a version file's text: a `manifestFormat: 1` document is returned as it is (old versions keep
 * loading); a root is assembled from its chunks.
 */
export function loadManifestVersion(text: string, source: ChunkSource): Manifest {
  const doc = JSON.parse(text) as Manifest | ManifestRoot;
  if (doc.manifestFormat === 1) return doc;
  if (doc.manifestFormat !== 2) throw new Error(`unknown manifestFormat ${String((doc as { manifestFormat?: unknown }).manifestFormat)}`);
  return assembleManifest(doc, source);
}

/** The whole manifest of a root (the same `Manifest` a format-1 version file holds). */
export function assembleManifest(root: ManifestRoot, source: ChunkSource): Manifest {
  const files: ManifestFile[] = [];
  const segments: Segment[] = [];
  for (const { file, segments: segs } of walkManifest(root, source)) {
    files.push(file);
    for (const s of segs) segments.push(s);
  }
  const { chunks: _c, fileCount: _f, segmentCount: _s, chunkFiles: _k, pathOrdered: _p, manifestFormat: _m, filesDigest: _d, ...rest } = root;
  const m = { manifestFormat: 1 as const, ...rest, files, segments };
  if (files.length !== root.fileCount || segments.length !== root.segmentCount) {
    throw new Error(`chunks of version ${root.version} hold ${files.length} files and ${segments.length} segments, the root says ${root.fileCount} and ${root.segmentCount}`);
  }
  return m;
}

/**
 * Yields each file with its segments in manifest order, one chunk in memory at a time (deltas, which
 * are small, are loaded first).
 */
export function* walkManifest(root: ManifestRoot, source: ChunkSource): Generator<FileWithSegments> {
  const { upserts, removed } = loadDeltas(root, (id) => readChunk(id, source));
  const pending = [...upserts.values()].sort((a, b) => cmp(a.file.path, b.file.path));
  let next = 0;
  for (const c of root.chunks) {
    if (c.kind !== 'base') continue;
    for (const item of readChunk(c.id, source).items) {
      const p = item.file.path;
      while (root.pathOrdered && next < pending.length && pending[next]!.file.path < p) yield pending[next++]!;
      if (removed.has(p) || upserts.has(p)) continue;
      yield item;
    }
  }
  while (next < pending.length) yield pending[next++]!;
}

/**
 * The file index of a version (paths, sizes, mtimes, fingerprints, and the summary columns when every
 * chunk has them), without entries or segments; `chunkOf` says which chunk holds each file's entry.
 */
export function loadFileIndex(root: ManifestRoot, source: ChunkSource, parse: (id: string) => FileIndex = (id) => parseIndex(id, source)): LoadedFileIndex {
  if (root.chunks.every((c) => c.kind === 'base')) return joinIndexes(root.chunks.map((c) => parse(c.id)));
  type Row = [FileIndex, number, number]; // index, row in it, chunk position
  const parsed: (FileIndex | undefined)[] = root.chunks.map(() => undefined);
  const rows = new Map<string, Row>();
  const removed = new Set<string>();
  root.chunks.forEach((c, k) => {
    if (c.kind !== 'delta') return;
    const idx = (parsed[k] = parse(c.id));
    for (const p of idx.removed ?? []) {
      rows.delete(p);
      removed.add(p);
    }
    idx.paths.forEach((p, i) => {
      rows.set(p, [idx, i, k]);
      removed.delete(p);
    });
  });
  root.chunks.forEach((c, k) => {
    if (c.kind === 'base') parsed[k] = parse(c.id);
  });
  const summary = parsed.every((x) => x !== undefined && x.rows !== undefined && x.segs !== undefined && x.digests !== undefined);
  if (root.pathOrdered) {
    const bases = root.chunks.flatMap((c, k) => (c.kind === 'base' ? [[parsed[k]!, k] as const] : []));
    const merged = mergeOrdered(bases, rows, removed, summary);
    if (merged) return merged;
  }
  const out: LoadedFileIndex = { paths: [], sizes: [], mtimes: [], fingerprints: [], chunkOf: [] };
  if (summary) Object.assign(out, { rows: [], live: [], segs: [], digests: [] });
  const push = (idx: FileIndex, i: number, k: number): void => {
    out.paths.push(idx.paths[i]!);
    out.sizes.push(idx.sizes[i]!);
    out.mtimes.push(idx.mtimes[i]!);
    out.fingerprints.push(idx.fingerprints[i]!);
    out.chunkOf.push(k);
    if (summary) {
      out.rows!.push(idx.rows![i]!);
      out.live!.push((idx.live ?? idx.rows)![i]!);
      out.segs!.push(idx.segs![i]!);
      out.digests!.push(idx.digests![i]!);
    }
  };
  const pending = [...rows.keys()].sort(cmp);
  let next = 0;
  const flushUpTo = (p: string | undefined): void => {
    while (next < pending.length && (p === undefined || pending[next]! < p)) {
      const [idx, i, k] = rows.get(pending[next++]!)!;
      push(idx, i, k);
    }
  };
  root.chunks.forEach((c, k) => {
    if (c.kind !== 'base') return;
    const idx = parsed[k]!;
    const paths = idx.paths;
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!;
      if (root.pathOrdered) flushUpTo(p);
      if (removed.has(p) || rows.has(p)) continue;
      push(idx, i, k);
    }
  });
  flushUpTo(undefined);
  return out;
}

/**
 * The files and segments of one chunk, after checking that its two objects still hash to its id
 * (content addressing: a chunk read to be changed is verified, not trusted).
 */
export function readVerifiedChunk(id: string, source: ChunkSource): { items: FileWithSegments[]; removed: string[] } {
  const indexText = source.index(id);
  const entriesText = source.entries(id);
  const digest = createHash('sha256').update(indexText).update('\n').update(entriesText).digest('hex').slice(0, 32);
  if (digest !== id) throw new Error(`chunk ${id} does not match its id (its content hashes to ${digest})`);
  return readChunk(id, { index: () => indexText, entries: () => entriesText });
}


/**
 * The file index of a version without delta chunks: its chunks' columns end to end (what the general
 * merge in {@link loadFileIndex} yields then), joined whole rather than row by row — at 100k files the
 * no-change check's largest cost after the listing.
 */
function joinIndexes(parsed: FileIndex[]): LoadedFileIndex {
  const join = <T>(column: (idx: FileIndex) => T[]): T[] => ([] as T[]).concat(...parsed.map(column));
  const out: LoadedFileIndex = {
    paths: join((x) => x.paths),
    sizes: join((x) => x.sizes),
    mtimes: join((x) => x.mtimes),
    fingerprints: join((x) => x.fingerprints),
    chunkOf: ([] as number[]).concat(...parsed.map((x, k) => new Array<number>(x.paths.length).fill(k))),
  };
  if (parsed.every((x) => x.rows !== undefined && x.segs !== undefined && x.digests !== undefined)) {
    Object.assign(out, { rows: join((x) => x.rows!), live: join((x) => x.live ?? x.rows!), segs: join((x) => x.segs!), digests: join((x) => x.digests!) });
  }
  return out;
}

function parseIndex(id: string, source: ChunkSource): FileIndex {
  return parseIndexText(id, source.index(id));
}

/**
 * Chunk file indexes already parsed, by chunk id, with their byte length: chunks are content-addressed
 * and never rewritten, so an engine re-reading the next version of a collection parses only its new chunks.
 */
export type ChunkIndexMemo = Map<string, { index: FileIndex; bytes: number }>;

/** A chunk's file index object (`<id>.i.json`) parsed and checked for aligned columns; read-only to callers. */
export function parseIndexText(id: string, text: string): FileIndex {
  const idx = JSON.parse(text) as FileIndex;
  const n = idx.paths?.length;
  if (!Array.isArray(idx.paths) || idx.sizes?.length !== n || idx.mtimes?.length !== n || idx.fingerprints?.length !== n) {
    throw new Error(`chunk index ${id} is malformed`);
  }
  for (const k of ['rows', 'live', 'segs', 'digests'] as const) {
    if (idx[k] !== undefined && (!Array.isArray(idx[k]) || idx[k].length !== n)) throw new Error(`chunk index ${id}: column ${k} does not align with its paths`);
  }
  return idx;
}

function readChunk(id: string, source: ChunkSource): { items: FileWithSegments[]; removed: string[] } {
  const idx = parseIndex(id, source);
  const { entries } = JSON.parse(source.entries(id)) as ChunkEntries;
  if (!Array.isArray(entries) || entries.length !== idx.paths.length) throw new Error(`chunk ${id}: entries do not match its index`);
  const items = entries.map((e, i): FileWithSegments => {
    const path = idx.paths[i]!;
    const file = { path, sizeBytes: idx.sizes[i]!, mtimeMs: idx.mtimes[i]!, fingerprint: idx.fingerprints[i]! } as ManifestFile & Record<string, unknown>;
    for (const k in e) if (k !== 'segs') file[k] = (e as unknown as Record<string, unknown>)[k];
    const segs = e.segs;
    const segments: Segment[] = new Array(segs.length);
    for (let j = 0; j < segs.length; j++) {
      const [sid, rowOffset, rows] = segs[j]!;
      segments[j] = { id: sid, rows, ranges: [{ path, rowOffset, rows }] };
    }
    return { file, segments };
  });
  return { items, removed: idx.removed ?? [] };
}

function loadDeltas(root: ManifestRoot, read: (id: string) => { items: FileWithSegments[]; removed: string[] }): { upserts: Map<string, FileWithSegments>; removed: Set<string> } {
  const upserts = new Map<string, FileWithSegments>();
  const removed = new Set<string>();
  for (const c of root.chunks) {
    if (c.kind !== 'delta') continue;
    const d = read(c.id);
    for (const p of d.removed) {
      upserts.delete(p);
      removed.add(p);
    }
    for (const item of d.items) {
      upserts.set(item.file.path, item);
      removed.delete(item.file.path);
    }
  }
  return { upserts, removed };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
