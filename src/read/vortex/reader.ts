/**
 * Reads a row range of a Vortex file as Arrow record batches, one per top-level chunk (the row ranges
 * every column's chunks align with, as the scanner cuts units), so memory stays at about one chunk.
 * Layouts walked: `vortex.struct`, `vortex.chunked`, `vortex.zoned` / `vortex.stats` (data child only),
 * `vortex.dict` and `vortex.flat`; a flat layout's segment is read (size and budget checked) and its
 * array decoded by `encodings.ts`. Anything else is refused with `UNSUPPORTED` naming the layout or
 * encoding, the column and the file.
 */
import { RecordBatch, Struct, Type, makeData, util, type DataType, type Data, type FixedSizeList, type List, type Schema } from 'apache-arrow';
import { LakemapError, corruptFile } from '../../errors.js';
import { toArrowField } from '../../../scanners/vortex/arrow-schema.js';
import { chunkBoundaries } from '../../../scanners/vortex/chunks.js';
import { PTYPES, topLevelFields, type VortexDType } from '../../../scanners/vortex/dtype.js';
import { FlatbufferError } from '../../../scanners/vortex/flatbuffer-reader.js';
import { CHUNKED, DICT, STRUCT, ZONED } from '../../../scanners/vortex/layout.js';
import type { ColumnRequest } from '../parquet/reader.js';
import type { ByteSource } from '../source-file.js';
import { parseArraySegment } from './array-segment.js';
import { Allocator, concat, gather, slice, take, toArrow, type Decoded } from './columns.js';
import { decodeArray, protoFields } from './encodings.js';
import { UnsupportedEncoding } from './unsupported.js';
import { readVortexMeta, type VortexFileMeta, type VortexLayout } from './meta.js';

/** What to read from one Vortex file. */
export interface VortexRangeRequest {
  /** First row. */
  rowOffset: number;
  /** Rows. */
  rows: number;
  /** Output columns. */
  columns: ColumnRequest[];
  /** Output schema (the columns' fields). */
  schema: Schema;
  /** Cancels between batches. */
  signal?: AbortSignal | undefined;
}

/** Yields the batches of `req` from `file` (which the caller closes). */
export function* readVortexRange(file: ByteSource, req: VortexRangeRequest, meta: VortexFileMeta = guard(file.rel, 'the footer', () => readVortexMeta(file))): Generator<RecordBatch> {
  const path = file.rel;
  const fields = topLevelFields(meta.dtype);
  if (meta.dtype.kind === 'struct' && meta.dtype.nullable) {
    throw new LakemapError('UNSUPPORTED', `${path}: the file's root struct is nullable; lakemap reads only non-nullable roots (as Vortex writes record batches)`, { path });
  }
  const plans = req.columns.map((c) => {
    const index = fields.findIndex((f) => f.name === c.external);
    if (index < 0) throw new LakemapError('FIELD_NOT_FOUND', `${path}: column "${c.external}" (field "${c.field.name}") is not in the file`, { path });
    const dtype = fields[index]!.dtype;
    const fileType = toArrowField(path, c.external, dtype).type;
    const same = (a: DataType, b: DataType): boolean => (util.compareTypes as (x: DataType, y: DataType) => boolean)(a, b);
    const out = c.field.type;
    // A list field declared with `dim` reads as FixedSizeList: each row's length is checked.
    const dim = out.typeId === Type.FixedSizeList && fileType.typeId === Type.List && same((out as FixedSizeList).children[0]!.type, (fileType as List).children[0]!.type)
      ? (out as FixedSizeList).listSize
      : undefined;
    if (dim === undefined && !same(out, fileType)) {
      throw new LakemapError('SCHEMA_MISMATCH', `${path}: column "${c.external}" is ${String(fileType)} in the file, the collection reads it as ${String(out)}`, { path });
    }
    return { req: c, dtype, dim, select: meta.dtype.kind === 'struct' ? index : undefined, cache: { flat: undefined, dictValues: new Map() } as Cache };
  });
  for (const [from, to] of vortexCuts(path, meta, req)) {
    if (req.signal?.aborted) throw new LakemapError('CANCELLED', `reading ${path} was cancelled`, { path });
    const children: Data[] = plans.map((p) => {
      const what = `column "${p.req.external}"`;
      return guard(path, what, () => {
        const alloc = new Allocator(file.budget, (why) => new LakemapError('UNSUPPORTED', `${path}: ${what}: ${why}`, { path }));
        const ctx: Ctx = { file, meta, alloc, cache: p.cache };
        const pieces = columnPieces(ctx, meta.layout, meta.dtype, p.select, from, to, 0);
        const values = concat(pieces, alloc);
        return toArrow(p.dim === undefined ? values : fixedSize(path, p.req.external, values, p.dim, from, alloc), p.req.field.type);
      });
    });
    yield new RecordBatch(req.schema, makeData({ type: new Struct(req.schema.fields), length: to - from, nullCount: 0, children }));
  }
}

/** The row ranges `[from, to)` read as one batch each: the request cut at the file's top-level chunk boundaries. */
export function vortexCuts(path: string, meta: VortexFileMeta, req: Pick<VortexRangeRequest, 'rowOffset' | 'rows'>): [number, number][] {
  const end = req.rowOffset + req.rows;
  if (end > meta.layout.rows) throw corruptFile(path, `rows [${req.rowOffset}, ${end}) were asked for but the file has ${meta.layout.rows}: it changed since the manifest was written`);
  const cuts = [req.rowOffset, ...chunkBoundaries(meta.layout).filter((b) => b > req.rowOffset && b < end), end];
  const out: [number, number][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) if (cuts[k + 1]! > cuts[k]!) out.push([cuts[k]!, cuts[k + 1]!]);
  return out;
}

interface Ctx {
  file: ByteSource;
  meta: VortexFileMeta;
  alloc: Allocator;
  cache: Cache;
}

/** Per column: the last flat chunk decoded (the next batch may start inside it) and dictionary values. */
interface Cache {
  flat: { node: VortexLayout; value: Decoded } | undefined;
  dictValues: Map<VortexLayout, Decoded>;
}

/**
 * The values of rows [from, to) of `node` (which starts at row 0 of its own range), as pieces in
 * order. `select` is the top-level field to take from a struct dtype, or undefined for the whole value.
 */
function columnPieces(ctx: Ctx, node: VortexLayout, dtype: VortexDType, select: number | undefined, from: number, to: number, depth: number): Decoded[] {
  if (depth > 64) throw new RangeError('layouts nested deeper than 64');
  if (to <= from) return [];
  if (node.id === STRUCT && select !== undefined && dtype.kind === 'struct') {
    const v = node.children.length === dtype.fields.length + 1 ? 1 : 0;
    return columnPieces(ctx, node.children[select + v]!, dtype.fields[select]!, undefined, from, to, depth + 1);
  }
  if (node.id === STRUCT && select === undefined && dtype.kind === 'struct') {
    // A nested struct column written as a struct layout: its fields (and validity first, when present).
    const v = node.children.length === dtype.fields.length + 1 ? 1 : 0;
    const part = (c: VortexLayout, d: VortexDType): Decoded => concat(columnPieces(ctx, c, d, undefined, from, to, depth + 1), ctx.alloc);
    const validity = v ? part(node.children[0]!, { kind: 'bool', nullable: false }) : undefined;
    const fields = dtype.fields.map((f, i) => part(node.children[i + v]!, f));
    return [{ kind: 'struct', len: to - from, fields, valid: validity?.kind === 'bool' ? validity.bits : null }];
  }
  if (node.id === CHUNKED) {
    const out: Decoded[] = [];
    let start = 0;
    for (const c of node.children) {
      const end = start + c.rows;
      if (end > from && start < to) out.push(...columnPieces(ctx, c, dtype, select, Math.max(from, start) - start, Math.min(to, end) - start, depth + 1));
      start = end;
    }
    return out;
  }
  if (ZONED.includes(node.id)) return columnPieces(ctx, node.children[0]!, dtype, select, from, to, depth + 1);
  if (node.id === DICT && select === undefined) {
    const m = protoFields(node.metadata);
    const codesNullable = m.has(2) ? m.get(2) !== 0n : dtype.nullable;
    const ptype = PTYPES[Number(m.get(1) ?? 0n)];
    if (!ptype || !/^[ui]/.test(ptype)) throw new RangeError(`dict layout has codes of unknown type ${m.get(1)}`);
    const valuesNode = node.children[0]!;
    let values = ctx.cache.dictValues.get(valuesNode);
    if (!values) {
      values = concat(columnPieces(ctx, valuesNode, dtype, undefined, 0, valuesNode.rows, depth + 1), ctx.alloc);
      ctx.cache.dictValues.set(valuesNode, values);
    }
    const codes = concat(columnPieces(ctx, node.children[1]!, { kind: 'primitive', ptype, nullable: codesNullable }, undefined, from, to, depth + 1), ctx.alloc);
    if (codes.kind !== 'prim') throw new RangeError('dictionary codes are not integers');
    return [take(values, codes.values, codes.valid, ctx.alloc)];
  }
  if (node.id === 'vortex.flat') {
    let whole = ctx.cache.flat?.node === node ? ctx.cache.flat.value : undefined;
    if (!whole) {
      whole = decodeFlat(ctx, node, dtype);
      ctx.cache.flat = { node, value: whole };
    }
    const picked = select === undefined ? whole : pick(whole, select);
    return [slice(picked, from, to)];
  }
  throw new UnsupportedEncoding(`layout ${node.id}`);
}

function pick(d: Decoded, field: number): Decoded {
  if (d.kind !== 'struct') throw new RangeError('a struct column decoded to a non-struct array');
  return d.fields[field]!;
}

function decodeFlat(ctx: Ctx, node: VortexLayout, dtype: VortexDType): Decoded {
  const index = node.segments[0];
  if (node.segments.length !== 1 || index === undefined) throw new RangeError(`flat layout has ${node.segments.length} segments, expected 1`);
  const spec = ctx.meta.footer.segments[index]!;
  const bytes = ctx.file.read(spec.offset, spec.length, `vortex segment ${index}`);
  const array = parseArraySegment(ctx.file.rel, bytes, node.metadata, ctx.meta.footer.arrayEncodings);
  const out = decodeArray(array, dtype, node.rows, ctx.alloc);
  if (out.len !== node.rows) throw new RangeError(`flat layout of ${node.rows} rows decoded to ${out.len}`);
  return out;
}

/** A list column as vectors of `dim` values: a row of another length fails with ROW_SHAPE_MISMATCH. */
function fixedSize(path: string, column: string, d: Decoded, dim: number, firstRow: number, alloc: Allocator): Decoded {
  if (d.kind !== 'list') throw new RangeError('a list column decoded to a non-list array');
  const index = new Int32Array(d.len * dim);
  for (let i = 0; i < d.len; i++) {
    const start = d.offsets[i]!, n = d.offsets[i + 1]! - start;
    if (d.valid && !d.valid[i]) {
      if (d.child.len === 0 && dim > 0) throw new UnsupportedEncoding('null vectors in a list column without elements');
      continue; // placeholder elements (index 0) under a null row
    }
    if (n !== dim) throw new LakemapError('ROW_SHAPE_MISMATCH', `${path}: column "${column}" row ${firstRow + i} has ${n} values, the field declares dim ${dim}`, { path });
    for (let k = 0; k < dim; k++) index[i * dim + k] = start + k;
  }
  alloc.take(4 * index.length, 'vectors');
  return { kind: 'fsl', len: d.len, size: dim, child: gather(d.child, index, null, alloc), valid: d.valid };
}

/** Runs `f`, turning an unsupported encoding or malformed bytes into a LakemapError naming the file and `what`. */
export function guard<T>(path: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LakemapError) throw e;
    if (e instanceof UnsupportedEncoding) throw new LakemapError('UNSUPPORTED', `${path}: ${what}: ${e.message} is not decoded by lakemap (Vortex reading covers the canonical encodings only)`, { path, cause: e });
    const reason = e instanceof FlatbufferError || e instanceof RangeError || e instanceof TypeError ? e.message : `unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`;
    throw corruptFile(path, `${what}: ${reason}`, e);
  }
}
