/**
 * The file index of a path-ordered version with delta chunks, merged in runs: the base chunks'
 * rows between two delta paths are copied as one range per column, not pushed one by one through
 * two set lookups each (at 100k files this merge was the largest cost of a hinted refresh after a
 * 1% change, issue #10).
 *
 * @module
 */
import type { FileIndex, LoadedFileIndex } from './chunks.js';

/** A delta chunk's row: its parsed index, the row in it and the chunk's position in the root. */
export type DeltaRow = readonly [FileIndex, number, number];

/**
 * The merge {@link loadFileIndex} does for a path-ordered root, or undefined when the base chunks'
 * paths do not strictly ascend end to end (the caller then merges row by row, as for a root that is
 * not path-ordered). `bases` are the base chunks with their positions in the root, in root order;
 * `upserts` the delta rows by path (the last delta's wins), `removed` the paths deltas removed.
 * The result is the row-by-row merge's: each base row not removed nor upserted, with every upsert
 * placed before the first base row whose path is greater.
 */
export function mergeOrdered(
  bases: readonly (readonly [FileIndex, number])[],
  upserts: ReadonlyMap<string, DeltaRow>,
  removed: ReadonlySet<string>,
  summary: boolean,
): LoadedFileIndex | undefined {
  const pending = [...upserts.keys()].sort(cmp);
  const skip = [...new Set([...pending, ...removed])].sort(cmp);
  // Pieces of the output in order: a range of one base chunk, or one delta row (to === -1).
  const pieces: { idx: FileIndex; from: number; to: number; k: number }[] = [];
  let next = 0;
  let s = 0;
  let prev: string | undefined;
  let total = 0;
  for (const [idx, k] of bases) {
    const paths = idx.paths;
    let run = 0; // start of the current run of kept rows
    const close = (end: number): void => {
      if (end > run) {
        pieces.push({ idx, from: run, to: end, k });
        total += end - run;
      }
    };
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!;
      if (prev !== undefined && !(prev < p)) return undefined;
      prev = p;
      if (next < pending.length && pending[next]! < p) {
        close(i);
        run = i;
        while (next < pending.length && pending[next]! < p) {
          const [d, j, dk] = upserts.get(pending[next++]!)!;
          pieces.push({ idx: d, from: j, to: -1, k: dk });
          total++;
        }
      }
      while (s < skip.length && skip[s]! < p) s++;
      if (s < skip.length && skip[s] === p) {
        close(i);
        run = i + 1;
        s++;
      }
    }
    close(paths.length);
  }
  while (next < pending.length) {
    const [d, j, dk] = upserts.get(pending[next++]!)!;
    pieces.push({ idx: d, from: j, to: -1, k: dk });
    total++;
  }
  return build(pieces, total, summary);
}

function build(pieces: readonly { idx: FileIndex; from: number; to: number; k: number }[], total: number, summary: boolean): LoadedFileIndex {
  const column = <T>(get: (idx: FileIndex) => readonly T[]): T[] => {
    const out = new Array<T>(total);
    let o = 0;
    for (const { idx, from, to } of pieces) {
      const src = get(idx);
      if (to < 0) out[o++] = src[from]!;
      else for (let i = from; i < to; i++) out[o++] = src[i]!;
    }
    return out;
  };
  const chunkOf = new Array<number>(total);
  let o = 0;
  for (const { from, to, k } of pieces) for (let i = 0, n = to < 0 ? 1 : to - from; i < n; i++) chunkOf[o++] = k;
  const out: LoadedFileIndex = {
    paths: column((x) => x.paths),
    sizes: column((x) => x.sizes),
    mtimes: column((x) => x.mtimes),
    fingerprints: column((x) => x.fingerprints),
    chunkOf,
  };
  if (summary) {
    out.rows = column((x) => x.rows!);
    out.live = column((x) => x.live ?? x.rows!);
    out.segs = column((x) => x.segs!);
    out.digests = column((x) => x.digests!);
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
