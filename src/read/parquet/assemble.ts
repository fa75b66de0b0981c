/**
 * Builds an Arrow column from a decoded chunk: validity bitmaps from definition levels, list offsets
 * from repetition levels, nulls scattered into fixed-width and variable-width storage. A list read
 * as `FixedSizeList` (a field that declares `dim`) must have exactly `dim` values in every row.
 */
import { DataType, Field, FixedSizeList, List, Type, makeData, type Data } from 'apache-arrow';
import type { DecodedChunk } from './chunk.js';
import { toArrowValues, type ArrowValues } from './convert.js';

/** How a top-level field is read from its one leaf column. */
export interface ColumnShape {
  /** `flat`: the leaf is the field; `list`: the field is a list of the leaf's values. */
  kind: 'flat' | 'list';
  /** Physical type of the leaf. */
  physical: number;
  /** Highest definition level of the leaf. */
  maxDef: number;
  /** list: a row's list is non-null when its definition level reaches this. */
  listDef: number;
  /** list: an element exists when the level reaches this. */
  elemDef: number;
}

/** Error in the data itself (a list of the wrong width); reported as `CORRUPT_FILE`-like `DATA_MISMATCH`. */
export class RowShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowShapeError';
  }
}

/** The Arrow data of `rows` rows of a column of type `type`. */
export function assembleColumn(chunk: DecodedChunk, shape: ColumnShape, type: DataType, rows: number): Data {
  if (shape.kind === 'flat') {
    const values = toArrowValues(chunk.values, shape.physical, type);
    const valid = chunk.def && values.count !== rows ? maskFromLevels(chunk.def, 0, rows, shape.maxDef) : null;
    if (!valid && values.count !== rows) throw new Error(`${values.count} values for ${rows} rows`);
    return leafData(type, values, valid, rows);
  }
  return assembleList(chunk, shape, type, rows);
}

function assembleList(chunk: DecodedChunk, shape: ColumnShape, type: DataType, rows: number): Data {
  const childField = (type as List | FixedSizeList).children[0] as Field;
  const values = toArrowValues(chunk.values, shape.physical, childField.type);
  const def = chunk.def!;
  const starts = chunk.starts!; // rows + 1 entries, checked against the row group by the chunk decoder
  const n = chunk.levels;
  const { listDef, elemDef, maxDef } = shape;
  const fixedDim = type.typeId === Type.FixedSizeList ? (type as FixedSizeList).listSize : 0;
  // Fast path: every level holds a value (no null or empty lists, no null elements), so the row
  // starts are the list offsets.
  if (values.count === n) {
    if (fixedDim > 0) {
      for (let r = 0; r <= rows; r++) {
        if (starts[r] !== r * fixedDim) throw new RowShapeError(`row ${r - 1} has ${starts[r]! - starts[r - 1]!} values, the field declares dim ${fixedDim}`);
      }
      return makeData({ type: type as FixedSizeList, length: rows, nullCount: 0, child: leafData(childField.type, values, null, n) });
    }
    return makeData({ type: type as List, length: rows, nullCount: 0, valueOffsets: starts, child: leafData(childField.type, values, null, n) });
  }
  // General path: walk each row's levels once for list validity, offsets and element validity.
  const offsets = new Int32Array(rows + 1);
  const listValid = new Uint8Array(rows);
  const elemValid = new Uint8Array(n);
  let e = 0;
  for (let r = 0; r < rows; r++) {
    const a = starts[r]!;
    const b = starts[r + 1]!;
    offsets[r] = e;
    listValid[r] = def[a]! >= listDef ? 1 : 0;
    for (let i = a; i < b; i++) {
      const d = def[i]!;
      if (d >= elemDef) elemValid[e++] = d === maxDef ? 1 : 0;
    }
  }
  offsets[rows] = e;
  if (fixedDim > 0) return fixedFromGeneral(type as FixedSizeList, childField.type, values, offsets, listValid, elemValid, rows, fixedDim);
  const child = leafData(childField.type, values, values.count === e ? null : elemValid.subarray(0, e), e);
  const { bitmap, nulls } = packMask(listValid, rows);
  return makeData({ type: type as List, length: rows, nullCount: nulls, nullBitmap: nulls ? bitmap : null, valueOffsets: offsets, child });
}

/** FixedSizeList with nulls somewhere: each null row gets `dim` null slots; any other width fails. */
function fixedFromGeneral(type: FixedSizeList, childType: DataType, values: ArrowValues, offsets: Int32Array, listValid: Uint8Array, elemValid: Uint8Array, rows: number, dim: number): Data {
  const slots = new Uint8Array(rows * dim); // slot validity in the output child
  const src = new Int32Array(rows * dim).fill(-1); // element index feeding each slot
  for (let r = 0; r < rows; r++) {
    const len = offsets[r + 1]! - offsets[r]!;
    if (!listValid[r]) continue;
    if (len !== dim) throw new RowShapeError(`row ${r} has ${len} values, the field declares dim ${dim}`);
    for (let k = 0; k < dim; k++) {
      slots[r * dim + k] = elemValid[offsets[r]! + k]!;
      src[r * dim + k] = offsets[r]! + k;
    }
  }
  // Map element slots to dense values: elements that are valid consume values in order.
  const valueOf = new Int32Array(offsets[rows]!);
  for (let i = 0, v = 0; i < valueOf.length; i++) valueOf[i] = elemValid[i] ? v++ : -1;
  const picks = new Int32Array(rows * dim);
  for (let s = 0; s < picks.length; s++) picks[s] = src[s]! >= 0 && slots[s] ? valueOf[src[s]!]! : -1;
  const child = pickData(childType, values, picks);
  const { bitmap, nulls } = packMask(listValid, rows);
  return makeData({ type, length: rows, nullCount: nulls, nullBitmap: nulls ? bitmap : null, child });
}

/** Validity (1 = value) of `rows` flat slots from definition levels. */
function maskFromLevels(def: Uint8Array, from: number, rows: number, maxDef: number): Uint8Array {
  const m = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) m[i] = def[from + i] === maxDef ? 1 : 0;
  return m;
}

/** Packs a byte mask into an Arrow bitmap; counts the zeros. */
export function packMask(mask: Uint8Array, n: number): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { bitmap, nulls };
}

/** Leaf data of `slots` slots: `valid` (a byte mask) says which slots take the next dense value. */
function leafData(type: DataType, values: ArrowValues, valid: Uint8Array | null, slots: number): Data {
  if (!valid) return denseData(type, values, slots);
  const picks = new Int32Array(slots);
  for (let i = 0, v = 0; i < slots; i++) picks[i] = valid[i] ? v++ : -1;
  return pickData(type, values, picks);
}

function denseData(type: DataType, values: ArrowValues, length: number): Data {
  if (values.kind === 'bool') return makeData({ type: type as any, length, nullCount: 0, data: packMask(values.bits, length).bitmap });
  if (values.kind === 'bytes') return makeData({ type: type as any, length, nullCount: 0, valueOffsets: values.offsets, data: values.data });
  return makeData({ type: type as any, length, nullCount: 0, data: values.array });
}

/** Data whose slot `s` holds dense value `picks[s]`, or null when it is -1. */
function pickData(type: DataType, values: ArrowValues, picks: Int32Array): Data {
  const n = picks.length;
  const mask = new Uint8Array(n);
  for (let s = 0; s < n; s++) mask[s] = picks[s]! >= 0 ? 1 : 0;
  const { bitmap, nulls } = packMask(mask, n);
  const nullBitmap = nulls ? bitmap : null;
  if (values.kind === 'bool') {
    const bits = new Uint8Array(n);
    for (let s = 0; s < n; s++) if (picks[s]! >= 0) bits[s] = values.bits[picks[s]!]!;
    return makeData({ type: type as any, length: n, nullCount: nulls, nullBitmap, data: packMask(bits, n).bitmap });
  }
  if (values.kind === 'bytes') {
    const offsets = new Int32Array(n + 1);
    const src = values.offsets;
    // values are in order: a null slot repeats the previous end, so the bytes need no copy
    let end = 0;
    for (let s = 0; s < n; s++) {
      const p = picks[s]!;
      if (p >= 0) end = src[p + 1]!;
      offsets[s + 1] = end;
    }
    return makeData({ type: type as any, length: n, nullCount: nulls, nullBitmap, valueOffsets: offsets, data: values.data });
  }
  const { array, stride } = values;
  const Ctor = array.constructor as new (n: number) => typeof array;
  const out = new Ctor(n * stride);
  if (stride === 1) {
    for (let s = 0; s < n; s++) {
      const p = picks[s]!;
      if (p >= 0) (out as Float64Array)[s] = (array as Float64Array)[p]!;
    }
  } else {
    for (let s = 0; s < n; s++) {
      const p = picks[s]!;
      if (p >= 0) for (let k = 0; k < stride; k++) (out as Uint8Array)[s * stride + k] = (array as Uint8Array)[p * stride + k]!;
    }
  }
  return makeData({ type: type as any, length: n, nullCount: nulls, nullBitmap, data: out });
}
