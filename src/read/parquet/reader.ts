/**
 * Reads a row range of one parquet file as Arrow record batches, one row group (or the part of it
 * in range) per batch. Only the requested columns' chunks are read; each is decoded by our own page
 * decoder ({@link decodeChunk}) and assembled into Arrow data ({@link assembleColumn}).
 */
import { DataType, FixedSizeList, List, RecordBatch, Schema, Struct, Type, makeData, util, type Data, type Field } from 'apache-arrow';
import { LakemapError, corruptFile } from '../../errors.js';
import { Repetition, type SchemaElement } from '../../../scanners/parquet/types.js';
import type { ByteSource } from '../source-file.js';
import { assembleColumn, RowShapeError, type ColumnShape } from './assemble.js';
import { decodeChunk, type Leaf, type LevelScratch, type PageFate } from './chunk.js';
import { readFooter, type ParquetFooter } from './footer.js';
import { hasNullType, planNested, readNestedRowGroup } from './nested.js';
import { Unsupported } from './rare-encodings.js';

/** A column to read: the output field and the file's top-level column that backs it. */
export interface ColumnRequest {
  /** Output field (name, type, nullability). */
  field: Field;
  /** Top-level column name in the file. */
  external: string;
}

/** What to read from one parquet file. */
export interface ParquetRangeRequest {
  /** First row (inside the file). */
  rowOffset: number;
  /** Rows. */
  rows: number;
  /** Columns, in output order. */
  columns: ColumnRequest[];
  /** Output schema (fields in the same order as `columns`). */
  schema: Schema;
  /** Stops between row groups when aborted. */
  signal?: AbortSignal | undefined;
  /** Observes the reading (tests assert with it that memory stays at a row group). */
  trace?: ReadTrace | undefined;
}

/** Callbacks that watch a range being read. */
export interface ReadTrace {
  /** A column chunk of row group `rowGroup` (index in the file) was read: `bytes` compressed bytes. */
  onChunkRead?(rowGroup: number, column: string, bytes: number): void;
  /** A data page's values were adopted as output storage, or copied out of a reused page buffer. */
  onPage?(fate: PageFate): void;
  /** The reader's reused buffers after each row group: their bytes in total. */
  onScratch?(bytes: number): void;
}

interface TopColumn {
  leaves: number[];
  shape: ColumnShape | undefined;
  leaf: Leaf | undefined;
  fileType: DataType;
  why: string;
}

/** Yields the batches of `req` from `file` (which the caller closes). */
export function* readParquetRange(file: ByteSource, req: ParquetRangeRequest, footer: ParquetFooter = readFooter(file)): Generator<RecordBatch> {
  const tops = topColumns(footer);
  const plans = req.columns.map((c) => {
    const top = tops.get(c.external);
    if (!top) throw new LakemapError('FIELD_NOT_FOUND', `${file.rel}: column "${c.external}" (field "${c.field.name}") is not in the file`, { path: file.rel });
    checkTypes(file.rel, c, top.fileType);
    // structs, maps, lists of lists or structs, null-typed values: assembled from each leaf's levels
    const nested = !top.shape || !top.leaf || hasNullType(top.fileType) ? nestedPlan(file.rel, footer, c) : undefined;
    return { req: c, top, nested };
  });
  // One set of buffers reused by every column and row group: chunks are decoded one after the other,
  // and neither a chunk's bytes, its levels nor a copied-out page reach the output. What stays alive
  // is the largest chunk, page and level count — not the segment, nor the sum of the columns.
  const bytes = { buffer: new Uint8Array(0) };
  const levels: LevelScratch = { def: new Uint8Array(0), rep: new Uint8Array(0) };
  const trace = req.trace;
  const onPage = trace?.onPage?.bind(trace);
  const end = req.rowOffset + req.rows;
  // the chunk buffer is sized once for the largest chunk to read (growing by doubling would hold twice that)
  let largest = 0;
  for (let g = 0, at = 0; g < footer.rowGroups.length && at < end; at += footer.rowGroups[g]!.numRows, g++) {
    const rg = footer.rowGroups[g]!;
    if (at + rg.numRows <= req.rowOffset) continue;
    for (const { top } of plans) largest = Math.max(largest, rg.columns[top.leaves[0]!]!.length);
  }
  if (largest <= file.budget) bytes.buffer = new Uint8Array(largest);
  let first = 0;
  for (let g = 0; g < footer.rowGroups.length && first < end; g++) {
    const rg = footer.rowGroups[g]!;
    const last = first + rg.numRows;
    if (last > req.rowOffset && rg.numRows > 0) {
      if (req.signal?.aborted) throw new LakemapError('CANCELLED', `reading ${file.rel} was cancelled`, { path: file.rel });
      const from = Math.max(req.rowOffset, first) - first;
      const to = Math.min(end, last) - first;
      const children: Data[] = plans.map(({ req: c, top, nested }) => {
        const leafIndex = top.leaves[0]!;
        const meta = rg.columns[leafIndex]!;
        const what = `column "${c.external}" of row group ${g}`;
        try {
          let data: Data;
          if (nested) data = readNestedRowGroup(file, rg, nested, { bytes, levels });
          else {
            const chunkBytes = file.read(meta.start, meta.length, what, bytes);
            trace?.onChunkRead?.(g, c.external, meta.length);
            const chunk = decodeChunk(chunkBytes, meta, top.leaf!, rg.numRows, file.budget, levels, onPage);
            data = assembleColumn(chunk, top.shape!, c.field.type, rg.numRows);
          }
          return from === 0 && to === rg.numRows ? data : data.slice(from, to - from);
        } catch (e) {
          throw readError(file.rel, what, e);
        }
      });
      const length = to - from;
      trace?.onScratch?.(bytes.buffer.length + levels.def.length + levels.rep.length + (levels.page?.length ?? 0));
      yield new RecordBatch(req.schema, makeData({ type: new Struct(req.schema.fields), length, nullCount: 0, children }));
    }
    first = last;
  }
  if (first < end) throw corruptFile(file.rel, `rows [${req.rowOffset}, ${end}) were asked for but the file has ${first}: it changed since the manifest was written`);
}

/** A row group {@link readParquetRange} decodes for a request, and the bytes it reads there. */
export interface RowGroupRead {
  /** Index in the file. */
  group: number;
  /** `[start, end)` of every chunk of the requested columns (all leaves of a nested one). */
  ranges: [number, number][];
}

/**
 * The row groups {@link readParquetRange} decodes for `req`, in the order it yields them, with the
 * byte ranges each reads: what a remote read fetches before each batch is decoded.
 */
export function rowGroupReads(footer: ParquetFooter, req: Pick<ParquetRangeRequest, 'rowOffset' | 'rows' | 'columns'>): RowGroupRead[] {
  const tops = topColumns(footer);
  const end = req.rowOffset + req.rows;
  const out: RowGroupRead[] = [];
  // the same walk as readParquetRange's loop: a row group is read when it has rows in range
  for (let g = 0, first = 0; g < footer.rowGroups.length && first < end; g++) {
    const rg = footer.rowGroups[g]!;
    if (first + rg.numRows > req.rowOffset && rg.numRows > 0) {
      const ranges: [number, number][] = [];
      for (const c of req.columns) {
        for (const leaf of tops.get(c.external)?.leaves ?? []) {
          const m = rg.columns[leaf]!;
          ranges.push([m.start, m.start + m.length]);
        }
      }
      out.push({ group: g, ranges });
    }
    first += rg.numRows;
  }
  return out;
}

function nestedPlan(rel: string, footer: ParquetFooter, c: ColumnRequest): ReturnType<typeof planNested> {
  try {
    return planNested(footer.elements, c.external, c.field.type);
  } catch (e) {
    throw readError(rel, `column "${c.external}"`, e);
  }
}

function readError(rel: string, what: string, e: unknown): LakemapError {
  if (e instanceof LakemapError) return e;
  if (e instanceof Unsupported) return new LakemapError('UNSUPPORTED', `${rel}: ${what}: ${e.message} is not read by lakemap`, { path: rel, cause: e });
  if (e instanceof RowShapeError) return new LakemapError('ROW_SHAPE_MISMATCH', `${rel}: ${what}: ${e.message}`, { path: rel, cause: e });
  return corruptFile(rel, `${what}: ${(e as Error).message}`, e);
}

/** The output type must be the file's type, or the file's list read as a FixedSizeList of the same values. */
function checkTypes(rel: string, c: ColumnRequest, fileType: DataType): void {
  const out = c.field.type;
  if (sameType(out, fileType)) return;
  if (out.typeId === Type.FixedSizeList && fileType.typeId === Type.List && sameType((out as FixedSizeList).children[0]!.type, (fileType as List).children[0]!.type)) return;
  throw new LakemapError('SCHEMA_MISMATCH', `${rel}: column "${c.external}" is ${String(fileType)} in the file, the collection reads it as ${String(out)}`, { path: rel });
}

function sameType(a: DataType, b: DataType): boolean {
  if ((util.compareTypes as (x: DataType, y: DataType) => boolean)(a, b)) return true;
  // List child names and nullability differ between writers; the values do not.
  const ac = a.children as Field[] | undefined;
  const bc = b.children as Field[] | undefined;
  if (a.typeId === Type.List && b.typeId === Type.List) return sameType(ac![0]!.type, bc![0]!.type);
  return false;
}

/** Top-level columns of the file: their leaves, and how to read them when our decoder can. */
function topColumns(footer: ParquetFooter): Map<string, TopColumn> {
  const els = footer.elements;
  const out = new Map<string, TopColumn>();
  let next = 1;
  let leafIndex = 0;
  const root = els[0]!;
  for (let f = 0; f < (root.numChildren ?? 0); f++) {
    const path: SchemaElement[] = [];
    const leaves: number[] = [];
    const paths: SchemaElement[][] = [];
    const walk = (): void => {
      const el = els[next++]!;
      path.push(el);
      if (el.numChildren === undefined || el.numChildren === 0) {
        if (el.type !== undefined) {
          leaves.push(leafIndex++);
          paths.push([...path]);
        }
      } else for (let i = 0; i < el.numChildren; i++) walk();
      path.pop();
    };
    walk();
    const fileField = footer.schema.fields[f]!;
    const top: TopColumn = { leaves, shape: undefined, leaf: undefined, fileType: fileField.type, why: '' };
    describeShape(top, paths, fileField.type);
    out.set(fileField.name, top);
  }
  return out;
}

function describeShape(top: TopColumn, paths: SchemaElement[][], type: DataType): void {
  if (paths.length !== 1) {
    top.why = `${String(type)} has ${paths.length} leaf columns; nested structs and maps are not read yet`;
    return;
  }
  const path = paths[0]!;
  const leafEl = path[path.length - 1]!;
  let def = 0;
  let rep = 0;
  let listDef = 0;
  let elemDef = 0;
  for (const el of path) {
    if (el.repetition === Repetition.REPEATED) {
      listDef = def;
      def++;
      rep++;
      elemDef = def;
    } else if (el.repetition === Repetition.OPTIONAL) def++;
  }
  const leaf: Leaf = { type: leafEl.type!, typeLength: leafEl.typeLength, maxDef: def, maxRep: rep };
  if (rep === 0 && path.length === 1) {
    top.shape = { kind: 'flat', physical: leaf.type, maxDef: def, listDef: 0, elemDef: 0 };
    top.leaf = leaf;
    return;
  }
  const child = type.typeId === Type.List ? type.children[0]!.type : undefined;
  if (rep === 1 && child && !(child.children?.length)) {
    top.shape = { kind: 'list', physical: leaf.type, maxDef: def, listDef, elemDef };
    top.leaf = leaf;
    return;
  }
  top.why = `${String(type)} is nested in a way lakemap does not read yet (only flat columns and lists of plain values)`;
}
