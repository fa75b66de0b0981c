/**
 * The delete files of one read call (readCollection, readSegment), loaded once: a position delete file
 * or a set of equality delete files that applies to many data files (a partition-scoped delete, an
 * equality delete of a partition) is read for the first data file and reused for the others. What is
 * held counts against the read budget together with the data file's own deleted-row bits; a loaded
 * entry that does not fit is dropped (entries the current data file does not use go first), and a
 * position delete file too large to hold is streamed for each data file, as without the cache. The
 * cache lives as long as the read call's generator.
 */
import { Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { ManifestFile } from '../types.js';
import type { IcebergFiles } from './iceberg.js';
import { KEY_OVERHEAD_BYTES, loadEqualityDeletes, type EqualityDeleteRef, type EqualityDeletes } from './iceberg-equality.js';
import type { DeletedPositions } from './deleted-positions.js';
import type { ParquetFooter } from './parquet/footer.js';
import type { ParquetRangeRequest } from './parquet/reader.js';

/** Positions of one position delete file, by every `/`-suffix of the data file paths it names. */
interface PositionEntry {
  kind: 'positions';
  bySuffix: Map<string, Float64Array[]>;
  bytes: number;
}

interface EqualityEntry {
  kind: 'equality';
  deletes: EqualityDeletes;
  bytes: number;
}

/** Delete files loaded during one read call, bounded by `budget` bytes with the current data file's bits. */
export class IcebergDeleteCache {
  private readonly entries = new Map<string, PositionEntry | EqualityEntry>();
  /** Position delete files found too large to hold: streamed per data file. */
  private readonly streamed = new Set<string>();
  /** Bytes held by the entries. */
  bytes = 0;
  /** Delete files read (for tests and traces): path → times. */
  readonly reads = new Map<string, number>();

  constructor(readonly budget: number) {}

  /** Marks in `out` the positions the position delete file `ref` deletes in data file `file`. */
  async positions(file: ManifestFile, ref: { path: string }, files: IcebergFiles, out: DeletedPositions, inUse: Set<string>): Promise<void> {
    const key = `p\u0000${ref.path}`;
    let entry = this.entries.get(key) as PositionEntry | undefined;
    if (!entry && !this.streamed.has(ref.path)) {
      entry = await this.loadPositions(file, ref.path, files, out, inUse);
      if (entry) this.add(key, entry);
      else this.streamed.add(ref.path);
      if (entry) for (const list of entry.bySuffix.get(file.path) ?? []) for (const p of list) out.add(p, ref.path);
      return;
    }
    if (entry) {
      for (const list of entry.bySuffix.get(file.path) ?? []) for (const p of list) out.add(p, ref.path);
      return;
    }
    this.count(ref.path);
    await streamPositions(file, ref.path, files, out);
  }

  /**
   * The equality deletes of `refs` for data file `file`, whose own deleted-row bits take `held` bytes:
   * the keys may take the rest of the budget, as when each data file loaded its own.
   */
  async equality(file: ManifestFile, refs: EqualityDeleteRef[], files: IcebergFiles, held: number, inUse: Set<string>, signal: AbortSignal | undefined): Promise<EqualityDeletes> {
    const key = `e\u0000${JSON.stringify(refs.map((r) => [r.path, r.equalityIds ?? null]))}`;
    const hit = this.entries.get(key) as EqualityEntry | undefined;
    // a hit loaded beside a smaller data file may not fit beside this one: loaded again, it is refused as before
    if (hit && hit.bytes + held <= this.budget) return hit.deletes;
    const counting: IcebergFiles = { ...files, parquet: (path, known, request) => (this.count(path), files.parquet(path, known, request)) };
    const deletes = await loadEqualityDeletes(file, refs, counting, this.budget - held, signal);
    if (!hit) {
      this.makeRoom(deletes.bytes + held, inUse);
      if (this.bytes + deletes.bytes + held <= this.budget) this.add(key, { kind: 'equality', deletes, bytes: deletes.bytes });
    }
    return deletes;
  }

  /** Makes room for `bytes` the next data file holds itself (its deleted-row bits), dropping entries it does not use. */
  reserve(bytes: number, inUse: Set<string>): void {
    this.makeRoom(bytes, inUse);
  }

  /** Drops every entry (the read call ended). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** Cache keys of the entries a data file's `deletes` use (kept when room is made for it). */
  static keysOf(positional: { path: string }[], equality: EqualityDeleteRef[]): Set<string> {
    const keys = new Set(positional.map((d) => `p\u0000${d.path}`));
    if (equality.length > 0) keys.add(`e\u0000${JSON.stringify(equality.map((r) => [r.path, r.equalityIds ?? null]))}`);
    return keys;
  }

  /** Drops entries not in `inUse` until `bytes` more fit in the budget (or none is left to drop). */
  private makeRoom(bytes: number, inUse: Set<string>): void {
    for (const [k, e] of this.entries) {
      if (this.bytes + bytes <= this.budget) return;
      if (inUse.has(k)) continue;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  private add(key: string, entry: PositionEntry | EqualityEntry): void {
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
  }

  private count(path: string): void {
    this.reads.set(path, (this.reads.get(path) ?? 0) + 1);
  }

  /**
   * Reads a whole position delete file into an entry, marking `file`'s positions in `out` meanwhile.
   * Undefined when the entry would not fit beside `out`: the file is streamed from then on.
   */
  private async loadPositions(file: ManifestFile, path: string, files: IcebergFiles, out: DeletedPositions, inUse: Set<string>): Promise<PositionEntry | undefined> {
    this.count(path);
    const byPath = new Map<string, number[]>();
    let bytes = 0;
    let fits = true;
    const suffix = `/${file.path}`;
    await forEachPosition(files, path, (p, at) => {
      if (!fits) {
        if (p === file.path || p.endsWith(suffix)) out.add(at, path);
        return;
      }
      let list = byPath.get(p);
      if (!list) {
        list = [];
        byPath.set(p, list);
        bytes += suffixCost(p);
      }
      list.push(at);
      bytes += 8;
      if (bytes + out.bytes + this.bytes > this.budget) {
        this.makeRoom(bytes + out.bytes, inUse);
        if (bytes + out.bytes + this.bytes > this.budget) {
          // too large to hold: mark what was gathered for this file, stream the rest
          fits = false;
          for (const [q, l] of byPath) if (q === file.path || q.endsWith(suffix)) for (const x of l) out.add(x, path);
          byPath.clear();
        }
      }
    });
    if (!fits) return undefined;
    const bySuffix = new Map<string, Float64Array[]>();
    for (const [p, list] of byPath) {
      const positions = Float64Array.from(list);
      for (const s of suffixes(p)) {
        const lists = bySuffix.get(s);
        if (lists) lists.push(positions);
        else bySuffix.set(s, [positions]);
      }
    }
    return { kind: 'positions', bySuffix, bytes };
  }
}

/** Marks in `out` the rows of position delete file `path` (`file_path`, `pos`) that name data file `file`. */
async function streamPositions(file: ManifestFile, path: string, files: IcebergFiles, out: DeletedPositions): Promise<void> {
  const suffix = `/${file.path}`;
  await forEachPosition(files, path, (p, at) => {
    if (p === file.path || p.endsWith(suffix)) out.add(at, path);
  });
}

/** Calls `fn` with each row of position delete file `path`: the data file it names and the position. */
async function forEachPosition(files: IcebergFiles, path: string, fn: (dataFile: string, position: number) => void): Promise<void> {
  for await (const b of files.parquet(path, undefined, positionRequest(path))) {
    const paths = b.getChildAt(0)!;
    const pos = b.getChildAt(1)!;
    for (let i = 0; i < b.numRows; i++) fn(String(paths.get(i)), Number(pos.get(i)));
  }
}

/** The read of a position delete file's `file_path` and `pos` columns, all rows. */
function positionRequest(path: string): (footer: ParquetFooter) => ParquetRangeRequest {
  return (footer) => {
    const fields = ['file_path', 'pos'].map((name) => {
      const f = footer.schema.fields.find((x) => x.name === name);
      if (!f) throw new LakemapError('CORRUPT_FILE', `${path}: position delete file has no "${name}" column`, { path });
      return f;
    });
    const rows = footer.rowGroups.reduce((a, g) => a + g.numRows, 0);
    return { rowOffset: 0, rows, columns: fields.map((field) => ({ field, external: field.name })), schema: new Schema(fields) };
  };
}

/**
 * The path itself and every part after a `/`: a delete row names a data file by its full location,
 * the manifest by its path inside the table, and a row matches when one ends the other at a `/`.
 */
function suffixes(p: string): string[] {
  const out = [p];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) if (i + 1 < p.length) out.push(p.slice(i + 1));
  return out;
}

/** Estimated bytes of indexing a path by its suffixes. */
function suffixCost(p: string): number {
  let slashes = 1;
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) slashes++;
  return slashes * KEY_OVERHEAD_BYTES + 2 * p.length;
}
