/**
 * A committed version read one chunk at a time, checked as it goes by the same rules as a whole
 * manifest ({@link manifestProblems}, applied per batch of files, plus paths and segment ids distinct
 * across batches and totals that add up at the end): what `lakemap show --json` streams.
 *
 * @module
 */
import { LakemapError } from '../errors.js';
import { walkManifest, type ChunkSource, type FileWithSegments, type ManifestRoot } from './chunks.js';
import { manifestProblems } from './validate.js';
import type { Manifest, ManifestFile, Segment } from '../types.js';

/** A version as a header plus its files walked in order. */
export interface ManifestStream {
  /** The manifest's fields but `files` and `segments`, in the order a whole manifest has them. */
  header: Omit<Manifest, 'files' | 'segments'>;
  /** Files in the version. */
  fileCount: number;
  /** Segments in the version. */
  segmentCount: number;
  /**
   * Each file with its segments, in manifest order, one chunk in memory at a time; throws
   * `MANIFEST_CORRUPT` at the first batch that breaks a rule. Each call walks the chunks again.
   */
  files(): Generator<FileWithSegments>;
}

const BATCH = 1024;

/** The stream of a chunked root (`file` names the version file, for errors). */
export function streamRoot(root: ManifestRoot, source: ChunkSource, file: string): ManifestStream {
  const { chunks: _c, fileCount, segmentCount, chunkFiles: _k, pathOrdered: _p, manifestFormat: _m, filesDigest: _d, ...rest } = root;
  const header = { manifestFormat: 1 as const, ...rest };
  const corrupt = (why: string): LakemapError => new LakemapError('MANIFEST_CORRUPT', `${file} is not a valid manifest: ${why}`, { path: file });
  const headerProblems = manifestProblems({ ...header, files: [], segments: [], totalRows: 0, physicalRows: 0 }, root.version);
  if (headerProblems.length) throw corrupt(headerProblems.join('; '));
  if (!Number.isSafeInteger(fileCount) || !Number.isSafeInteger(segmentCount)) throw corrupt('its file or segment count is not an integer');
  return {
    header,
    fileCount,
    segmentCount,
    *files() {
      const paths = new Set<string>();
      const ids = new Set<string>();
      let live = 0;
      let physical = 0;
      let files = 0;
      let segments = 0;
      let batch: FileWithSegments[] = [];
      const check = (): void => {
        const fs: ManifestFile[] = [];
        const ss: Segment[] = [];
        let l = 0;
        let p = 0;
        for (const { file, segments: segs } of batch) {
          if (paths.has(file.path)) throw corrupt(`${file.path} is listed twice`);
          paths.add(file.path);
          fs.push(file);
          l += file.liveRows;
          p += file.rows;
          for (const s of segs) {
            if (ids.has(s.id)) throw corrupt(`segment id ${s.id} repeats`);
            ids.add(s.id);
            ss.push(s);
          }
        }
        const problems = manifestProblems({ ...header, files: fs, segments: ss, totalRows: l, physicalRows: p }, root.version);
        if (problems.length) throw corrupt(problems.slice(0, 3).join('; '));
        live += l;
        physical += p;
        files += fs.length;
        segments += ss.length;
      };
      try {
        for (const item of walkManifest(root, source)) {
          batch.push(item);
          if (batch.length < BATCH) continue;
          check();
          yield* batch;
          batch = [];
        }
      } catch (e) {
        throw LakemapError.is(e) ? e : corrupt(`its chunks cannot be read: ${(e as Error).message}`);
      }
      check();
      yield* batch;
      if (files !== fileCount || segments !== segmentCount) throw corrupt(`its chunks hold ${files} files and ${segments} segments, the root says ${fileCount} and ${segmentCount}`);
      if (live !== root.totalRows || physical !== root.physicalRows) throw corrupt(`totals ${root.totalRows}/${root.physicalRows} are not the sums of the files' rows (${live}/${physical})`);
    },
  };
}

/** The stream of a whole manifest already in memory (a format-1 version). */
export function streamManifest(m: Manifest): ManifestStream {
  const { files: _f, segments: _s, ...header } = m;
  return {
    header,
    fileCount: m.files.length,
    segmentCount: m.segments.length,
    *files() {
      const byPath = new Map<string, Segment[]>();
      for (const s of m.segments) {
        const p = s.ranges[0]!.path;
        const list = byPath.get(p);
        if (list) list.push(s);
        else byPath.set(p, [s]);
      }
      for (const file of m.files) yield { file, segments: byPath.get(file.path) ?? [] };
    },
  };
}

/**
 * Writes a stream as the pretty JSON (2-space indent) of the manifest it walks, the same text as
 * `JSON.stringify(manifest, null, 2)` for a chunked version, in pieces of about `chunkBytes`;
 * `write` may return a promise (to wait for a drained pipe).
 */
export async function writeManifestJson(s: ManifestStream, write: (text: string) => void | Promise<void>, chunkBytes = 1 << 20): Promise<void> {
  let buf = '';
  const put = async (t: string): Promise<void> => {
    buf += t;
    if (buf.length >= chunkBytes) {
      const out = buf;
      buf = '';
      await write(out);
    }
  };
  const indent = (v: unknown, pad: string): string => JSON.stringify(v, null, 2).replace(/\n/g, `\n${pad}`);
  await put('{');
  let first = true;
  for (const [k, v] of Object.entries(s.header)) {
    if (v === undefined) continue;
    await put(`${first ? '' : ','}\n  ${JSON.stringify(k)}: ${indent(v, '  ')}`);
    first = false;
  }
  const list = async (key: string, pick: (f: FileWithSegments) => unknown[]): Promise<void> => {
    await put(`${first ? '' : ','}\n  ${JSON.stringify(key)}: [`);
    first = false;
    let n = 0;
    for (const item of s.files()) for (const v of pick(item)) await put(`${n++ ? ',' : ''}\n    ${indent(v, '    ')}`);
    await put(n ? '\n  ]' : ']');
  };
  await list('files', (f) => [f.file]);
  await list('segments', (f) => f.segments);
  await put(first ? '}' : '\n}');
  if (buf) await write(buf);
}
