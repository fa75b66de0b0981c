import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LakemapError } from '../errors.js';
import { rootError, rootIo, rootIoAsync, safeParse, writeFileAtomic } from './store.js';
import { allSynced, removeTemps, syncDirAsync, writePending, type PendingFile } from './durable.js';
import { manifestProblems } from './validate.js';
import { temporaryInUse } from './lock.js';
import { CHUNK_DIR, ChunkWriter, decodeVersion, encodeVersion, fileChunkSource, pruneChunks } from './chunk-files.js';
import { loadFileIndex, type EncodedChunk, type ManifestRoot } from './chunks.js';
import { parseIndexText, type ChunkIndexMemo } from './chunk-read.js';
import { chunkedIndex, fileIndexProblems, type PreviousIndex } from './file-index.js';
import { manifestSummary, type ManifestSummary } from './summary.js';
import { streamManifest, streamRoot, type ManifestStream } from './stream.js';
import type { Manifest } from '../types.js';

const POINTER_FILE = 'CURRENT';
const MANIFEST_DIR = 'manifests';
const VERSION_NAME = /^v(\d{6,})\.json$/;

/** Where `CURRENT` points, and how that was learned. */
export interface Pointer {
  /** The current version, 0 when the collection has none. */
  version: number;
  /** True when `CURRENT` was missing and the version was recovered from the version files. */
  recovered: boolean;
}

/** What a commit must still find, or it is refused with `COMMIT_CONFLICT`. */
export interface CommitExpectation {
  /** The version `CURRENT` named when the job took the lock. */
  version: number;
  /** The collection's incarnation when the job started. */
  incarnation: string | undefined;
  /** Reads the collection's incarnation now (undefined: the collection is gone). */
  currentIncarnation(): string | undefined;
  /** True while the job's lock is still in place. */
  lockHeld(): boolean;
}

/**
 * The versions of one collection: `manifests/vNNNNNN.json` files, never overwritten, and the `CURRENT`
 * pointer naming the committed one. Only "no `CURRENT` and no version file" means empty.
 */
export class VersionStore {
  constructor(
    readonly root: string,
    readonly dir: string,
    readonly label: string,
  ) {}

  /** `CURRENT`'s path. */
  get pointerFile(): string {
    return path.join(this.dir, POINTER_FILE);
  }

  /** Folder of the content-addressed chunks of chunked versions. */
  get chunksDir(): string {
    return path.join(this.dir, CHUNK_DIR);
  }

  /** Path of a version file. */
  file(version: number): string {
    return path.join(this.dir, MANIFEST_DIR, `v${String(version).padStart(6, '0')}.json`);
  }

  /**
   * The committed version. A missing `CURRENT` with version files recovers the newest intact one; a
   * `CURRENT` that cannot be read fails with `ROOT_IO_ERROR`, one that does not parse with `MANIFEST_CORRUPT`.
   */
  pointer(): Pointer {
    const file = this.pointerFile;
    const named = this.named();
    if (named === undefined) {
      const onDisk = this.onDisk();
      if (onDisk.length === 0) return { version: 0, recovered: false };
      const intact = onDisk.reverse().find((v) => this.load(v).problems.length === 0);
      if (intact === undefined) {
        throw new LakemapError('MANIFEST_CORRUPT', `${file} is missing and no version file of ${this.label} is intact: run "lakemap repair"`, { path: file });
      }
      return { version: intact, recovered: true };
    }
    return { version: named, recovered: false };
  }

  /** The version `CURRENT` names, undefined when it does not exist; unreadable or garbled fails. */
  named(): number | undefined {
    const file = this.pointerFile;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw rootError(this.root, file, 'read', e);
    }
    const v = (safeParse(text) as { version?: unknown } | undefined)?.version;
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw new LakemapError('MANIFEST_CORRUPT', `${file} does not hold a manifest version: run "lakemap repair" to re-point it`, { path: file });
    }
    return v as number;
  }

  /** The committed current version, 0 when none. */
  current(): number {
    return this.pointer().version;
  }

  /** Reads and validates a committed version (default: the current one). */
  read(version?: number): Manifest {
    const current = this.current();
    if (current === 0) throw new LakemapError('MANIFEST_NOT_FOUND', `collection ${this.label} has no manifest yet: refresh it first`);
    const v = version ?? current;
    const file = this.file(v);
    if (!Number.isSafeInteger(v) || v < 1 || v > current || !fs.existsSync(file)) {
      throw new LakemapError('MANIFEST_NOT_FOUND', `collection ${this.label} has no manifest version ${v}; kept: ${this.list().join(', ')}`);
    }
    const { manifest, problems } = this.load(v);
    if (!manifest) throw new LakemapError('MANIFEST_CORRUPT', `${file} is not a valid manifest: ${problems.join('; ')}`, { path: file });
    return manifest;
  }

  /**
   * A committed version (default: the current one) to walk one chunk at a time, validated as it is
   * walked; a format-1 version is read and validated whole first.
   */
  stream(version?: number): ManifestStream {
    const current = this.current();
    const v = version ?? current;
    if (current > 0 && Number.isSafeInteger(v) && v >= 1 && v <= current) {
      const root = safeParse(readText(this.file(v)) ?? '') as ManifestRoot | undefined;
      if (root !== null && typeof root === 'object' && root.manifestFormat === 2) return streamRoot(root, fileChunkSource(this.chunksDir), this.file(v));
    }
    return streamManifest(this.read(version));
  }

  /**
   * The summary (rows, files, segments, schema) of a committed version: from a chunked version's root
   * alone, without reading its chunks; a format-1 version is read and validated whole.
   */
  summary(version?: number): ManifestSummary {
    const current = this.current();
    const v = version ?? current;
    if (current > 0 && Number.isSafeInteger(v) && v >= 1 && v <= current) {
      const root = safeParse(readText(this.file(v)) ?? '') as ManifestRoot | undefined;
      if (root?.manifestFormat === 2 && root.version === v && Number.isSafeInteger(root.fileCount) && Number.isSafeInteger(root.segmentCount)) {
        return manifestSummary(root);
      }
    }
    return manifestSummary(this.read(version));
  }

  /**
   * A chunked version's root and file index alone (no entries, no segments), validated; undefined for
   * a format-1 version or one whose root or index is unsound (then {@link VersionStore.load} tells why).
   * `memo` holds chunk indexes parsed before (by the same engine) and gets this version's.
   */
  fileIndex(version: number, memo?: ChunkIndexMemo): PreviousIndex | undefined {
    const root = safeParse(readText(this.file(version)) ?? '') as ManifestRoot | undefined;
    if (root === null || typeof root !== 'object' || root.manifestFormat !== 2 || !Array.isArray(root.chunks)) return undefined;
    try {
      // Entries are not read, but each chunk's two objects must still add up to the bytes the root
      // lists (a truncated or swapped entries object fails this; the full load then says why).
      const files = fileChunkSource(this.chunksDir);
      const indexBytes = new Map<string, number>();
      const index = loadFileIndex(root, files, (id) => {
        const held = memo?.get(id);
        if (held) {
          indexBytes.set(id, held.bytes);
          return held.index;
        }
        const text = files.index(id);
        const bytes = Buffer.byteLength(text);
        indexBytes.set(id, bytes);
        const parsed = parseIndexText(id, text);
        memo?.set(id, { index: parsed, bytes });
        return parsed;
      });
      // The memo keeps this version's chunks only: the next version shares them but for its delta.
      if (memo) {
        const kept = new Set(root.chunks.map((c) => c.id));
        for (const id of memo.keys()) if (!kept.has(id)) memo.delete(id);
      }
      for (const c of root.chunks) {
        if (fs.statSync(path.join(this.chunksDir, `${c.id}.c.json`)).size + (indexBytes.get(c.id) ?? NaN) !== c.bytes) return undefined;
      }
      if (fileIndexProblems(root, index, version).length > 0) return undefined;
      const chunked = chunkedIndex(root, index);
      return { header: root, paths: index.paths, sizes: index.sizes, mtimes: index.mtimes, segmentCount: root.segmentCount, ...(chunked ? { chunked } : {}) };
    } catch {
      return undefined;
    }
  }

  /** A version file parsed and validated: the manifest, or the problems found. */
  load(version: number): { manifest?: Manifest; problems: string[] } {
    const file = this.file(version);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { problems: ['the file is missing'] };
      throw rootError(this.root, file, 'read', e);
    }
    let value = safeParse(text);
    if (value === undefined) return { problems: ['not valid JSON'] };
    // `?.`: a file holding JSON null is corrupt like any other non-object, not a TypeError.
    if ((value as { manifestFormat?: unknown } | null)?.manifestFormat === 2) {
      // A chunked version: its root plus the chunks it lists (format-1 files load as they are).
      try {
        value = decodeVersion(text, this.chunksDir);
      } catch (e) {
        return { problems: [`its chunks cannot be read: ${(e as Error).message}`] };
      }
    }
    const problems = manifestProblems(value, version);
    return problems.length ? { problems } : { manifest: value as Manifest, problems };
  }

  /** Committed versions still on disk, ascending. */
  list(): number[] {
    const current = this.current();
    return this.onDisk().filter((v) => v <= current);
  }

  /** Every version file on disk (committed or not), ascending. */
  onDisk(): number[] {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.dir, MANIFEST_DIR));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw rootError(this.root, path.join(this.dir, MANIFEST_DIR), 'list', e);
    }
    return names
      .map((n) => VERSION_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /**
   * Under the lock, before a refresh: version files above the committed one were written by a commit
   * that never flipped `CURRENT` (a crash); they are renamed aside, never deleted or reused. Temporary
   * files of killed writers are removed (those of live processes are left: another process may be
   * linking its lock attempt there right now). Returns the names set aside.
   */
  setAsideUncommitted(current: number): string[] {
    const moved: string[] = [];
    for (const v of this.onDisk().filter((x) => x > current)) {
      const aside = path.join(this.dir, MANIFEST_DIR, `.uncommitted-${path.basename(this.file(v), '.json')}-${randomBytes(4).toString('hex')}.json`);
      rootIo(this.root, this.file(v), 'set aside', () => fs.renameSync(this.file(v), aside));
      moved.push(path.basename(this.file(v)));
    }
    for (const d of [this.dir, path.join(this.dir, MANIFEST_DIR)]) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(d);
      } catch {
        continue;
      }
      for (const n of names) if (n.startsWith('.tmp-') && !temporaryInUse(n)) fs.rmSync(path.join(d, n), { force: true });
    }
    return moved;
  }

  /**
   * Commits `manifest` as version `expected.version + 1`, the one place a version becomes current:
   * 1. the collection must still be the incarnation the job started on, and the job's lock still held;
   * 2. the chunks not on disk yet, the version file and the next `CURRENT` are written complete under
   *    temporary names, their fsyncs overlapping;
   * 3. the chunks are linked into place and their folder synced; then the version file is linked into
   *    place, which fails if the file exists (history is never overwritten), and its folder synced;
   * 4. `CURRENT` must still name `expected.version` (compare-and-swap), then flips by one atomic rename.
   * Any failed check is `COMMIT_CONFLICT`; an OS failure is `ROOT_IO_ERROR`. Versions older than the
   * newest `keep` are deleted afterwards.
   */
  async commit(manifest: Manifest, expected: CommitExpectation, keep: number, previous?: Manifest): Promise<void> {
    await this.commitEncoded(manifest.version, expected, keep, (writer) => {
      const prevText = previous && previous.version === expected.version ? readText(this.file(expected.version)) : undefined;
      // Base chunks start writing as they are encoded (one chunk's text in memory at a time).
      const onChunk = (c: EncodedChunk): void => writer.add(c);
      const encoded = encodeVersion(manifest, prevText !== undefined && previous ? { text: prevText, manifest: previous } : undefined, { onChunk });
      for (const c of encoded.chunks) writer.add(c); // a delta comes back whole, not through onChunk
      return encoded.text;
    });
  }

  /**
   * Commits a chunked version given as its root and the chunks it adds (a refresh that built it from
   * a change), with the same checks and steps as {@link VersionStore.commit}.
   */
  async commitRoot(root: ManifestRoot, chunks: EncodedChunk[], expected: CommitExpectation, keep: number): Promise<void> {
    await this.commitEncoded(root.version, expected, keep, (writer) => {
      for (const c of chunks) writer.add(c);
      return JSON.stringify(root);
    });
  }

  private async commitEncoded(version: number, expected: CommitExpectation, keep: number, encode: (chunks: ChunkWriter) => string): Promise<void> {
    const conflict = (why: string): LakemapError =>
      new LakemapError('COMMIT_CONFLICT', `commit of ${this.label} version ${version} refused: ${why}; the previous version stays current`, { path: this.dir });
    if (version !== expected.version + 1) throw conflict(`the job started from version ${expected.version}`);
    const checkCollection = (): void => {
      const incarnation = expected.currentIncarnation();
      if (incarnation === undefined) throw conflict('the collection was dropped while the refresh ran');
      if (incarnation !== expected.incarnation) throw conflict('the collection was dropped and created again while the refresh ran');
      if (!expected.lockHeld()) throw conflict('the refresh lock was taken away');
    };
    checkCollection();
    const file = this.file(version);
    const manifestsDir = path.dirname(file);
    const writer = new ChunkWriter(this.chunksDir);
    let pointer: PendingFile | undefined;
    await rootIoAsync(this.root, file, 'write', async () => {
      let root: PendingFile | undefined;
      try {
        try {
          fs.mkdirSync(manifestsDir); // never recursive: a vanished collection folder is not re-created
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        // Everything this commit writes is flushed at once; what becomes visible keeps its order:
        // chunks, then the root as the version file, then CURRENT (below).
        const text = encode(writer);
        root = writePending(file, text);
        pointer = rootIo(this.root, this.pointerFile, 'write', () => writePending(this.pointerFile, JSON.stringify({ version })));
        await allSynced([root, pointer]);
        await writer.finish();
        try {
          fs.linkSync(root.tmp, file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`${file} already exists`);
          throw e;
        }
      } catch (e) {
        writer.abort();
        if (pointer) removeTemps([pointer]);
        throw e;
      } finally {
        if (root) removeTemps([root]);
      }
      await syncDirAsync(manifestsDir);
    });
    try {
      checkCollection();
      const now = this.named() ?? 0;
      if (now !== expected.version) throw conflict(`CURRENT names version ${now}, not ${expected.version} as when the job started`);
      rootIo(this.root, this.pointerFile, 'write', () => fs.renameSync(pointer!.tmp, this.pointerFile));
      await syncDirAsync(this.dir);
    } catch (e) {
      removeTemps([pointer!]);
      fs.rmSync(file, { force: true }); // never current, so not history
      throw e;
    }
    const kept: string[] = [];
    for (const v of this.onDisk()) {
      if (v <= version - keep) fs.rmSync(this.file(v), { force: true });
      else {
        const t = readText(this.file(v));
        if (t !== undefined) kept.push(t);
      }
    }
    // Chunks no kept version references go (a crashed commit's chunks among them).
    try {
      pruneChunks(this.chunksDir, kept.filter((t) => safeParse(t) !== undefined));
    } catch {
      // pruning is housekeeping: the commit stands
    }
  }

  /** Points `CURRENT` at `version` (0: removes it). Repair and recovery only, under the lock. */
  setPointer(version: number): void {
    rootIo(this.root, this.pointerFile, 'write', () => {
      if (version === 0) fs.rmSync(this.pointerFile, { force: true });
      else writeFileAtomic(this.pointerFile, JSON.stringify({ version }));
    });
  }

  /** Renames a version file aside as corrupt (repair only): kept for inspection, out of the version list. */
  quarantine(version: number): string {
    const aside = path.join(this.dir, MANIFEST_DIR, `.corrupt-${path.basename(this.file(version), '.json')}-${randomBytes(4).toString('hex')}.json`);
    rootIo(this.root, this.file(version), 'set aside', () => fs.renameSync(this.file(version), aside));
    return aside;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
