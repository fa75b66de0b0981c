/**
 * Reads one row group of a nested column (see {@link planNested}) into Arrow data: each leaf chunk is
 * decoded by our page decoder ({@link decodeChunk}), then one pass over its repetition and definition
 * levels (Dremel) opens the slots of every struct, list and map on the way from the column's root to
 * the leaf, with their validity and list offsets. The first leaf under a node builds that node; every
 * other leaf under it must give exactly the same slots, validity and offsets, or the file is refused:
 * leaves that disagree cannot be read into one set of rows. Memory: the row group's leaves, decoded.
 */
import { makeData, Type, type Data, type DataType, type List, type Map_, type Null, type Struct } from 'apache-arrow';
import type { ByteSource } from '../source-file.js';
import { packMask } from './assemble.js';
import { decodeChunk, type DecodedChunk, type LevelScratch } from './chunk.js';
import { toArrowValues, type ArrowValues } from './convert.js';
import type { RowGroupMeta } from './footer.js';
import type { LeafNode, NestedNode, NestedPlan } from './nested-plan.js';
import { Unsupported } from './rare-encodings.js';

export { planNested, hasNullType, type NestedPlan } from './nested-plan.js';

/** Slots of one node in one row group: validity per slot, and list offsets (slots + 1) for lists. */
interface NodeState {
  slots: number;
  valid: Uint8Array;
  offsets: Int32Array | null;
  /** The leaf whose levels built it (named when another leaf disagrees). */
  leaf: string;
}

/** Reusable buffers of one column: the chunk bytes and the levels never reach the output. */
export interface NestedScratch {
  bytes: { buffer: Uint8Array };
  levels: LevelScratch;
}

/** The Arrow data of all `numRows` rows of row group `rg` for the nested column `plan`. */
export function readNestedRowGroup(file: ByteSource, rg: RowGroupMeta, plan: NestedPlan, scratch: NestedScratch): Data {
  const states = new Map<NestedNode, NodeState>();
  const values = new Map<LeafNode, ArrowValues | null>();
  for (const { leaf, nodes } of plan.paths) {
    const meta = rg.columns[leaf.leafIndex];
    if (!meta) throw new Error(`no column chunk for leaf "${leaf.name}"`);
    try {
      if (meta.type !== leaf.leaf.type) throw new Error(`the chunk's physical type ${meta.type} is not the schema's ${leaf.leaf.type}`);
      const bytes = file.read(meta.start, meta.length, `leaf "${leaf.name}"`, scratch.bytes);
      const chunk = decodeChunk(bytes, meta, leaf.leaf, rg.numRows, file.budget, scratch.levels);
      walkLevels(chunk, nodes, states, rg.numRows);
      values.set(leaf, leafValues(chunk, leaf));
    } catch (e) {
      if (e instanceof Error && !('code' in e)) e.message = `leaf "${leaf.name}": ${e.message}`;
      throw e;
    }
  }
  return build(plan.root, states, values);
}

function leafValues(chunk: DecodedChunk, leaf: LeafNode): ArrowValues | null {
  if (leaf.type.typeId !== Type.Null) return toArrowValues(chunk.values, leaf.leaf.type, leaf.type);
  if (chunk.values.count !== 0) throw new Error(`the null-typed column holds ${chunk.values.count} values`);
  return null;
}

/**
 * One pass over a leaf's level entries. An entry opens a slot in every node on the path whose rule it
 * meets (repetition level at most the node's, definition level at least the node's), top-down, so a
 * list's offset for a slot is its child's slot count before the entry's own element.
 */
function walkLevels(chunk: DecodedChunk, nodes: NestedNode[], states: Map<NestedNode, NodeState>, rows: number): void {
  const n = chunk.levels;
  const { def } = chunk;
  const rep = chunk.rep ?? null;
  const leaf = nodes[nodes.length - 1] as LeafNode;
  // every level is needed here (not only row starts): refuse rather than read a list as flat
  if (leaf.leaf.maxRep > 0 && !rep) throw new Error('the chunk decoder kept no repetition levels');
  if (leaf.leaf.maxDef > 0 && !def && chunk.values.count !== n) throw new Error('the chunk decoder kept no definition levels');
  const P = nodes.length;
  // repDefs[r]: the definition level an entry continuing the list of repetition level r must reach
  const repDefs = new Int32Array(leaf.leaf.maxRep + 1);
  for (const x of nodes) if (x.kind === 'list') repDefs[x.rep] = x.elemDef;
  const own: boolean[] = [];
  const st: NodeState[] = [];
  for (const x of nodes) {
    let s = states.get(x);
    own.push(!s);
    if (!s) {
      s = { slots: 0, valid: new Uint8Array(n), offsets: x.kind === 'list' ? new Int32Array(n + 1) : null, leaf: leaf.name };
      states.set(x, s);
    }
    st.push(s);
  }
  const slotDef = Int32Array.from(nodes, (x) => x.slotDef);
  const nullDef = Int32Array.from(nodes, (x) => x.nullDef);
  const mapKey = Uint8Array.from(nodes, (x) => (x.mapKey ? 1 : 0));
  const owned = Uint8Array.from(own, (o) => (o ? 1 : 0));
  const valids = st.map((x) => x.valid);
  const offsets = st.map((x) => x.offsets);
  const slots = Int32Array.from(st, (x) => x.slots);
  // slot rules deepen along the path: an entry of repetition level r opens slots from the first node
  // whose rule admits r, down to the last whose definition level it reaches
  const firstFor = new Int32Array(leaf.leaf.maxRep + 1);
  for (let r = 0, k = 0; r <= leaf.leaf.maxRep; r++) {
    while (nodes[k]!.slotRep < r) k++;
    firstFor[r] = k;
  }
  const counts = new Int32Array(P + 1);
  const maxDef = leaf.leaf.maxDef;
  for (let i = 0; i < n; i++) {
    const d = def ? def[i]! : maxDef;
    const r = rep ? rep[i]! : 0;
    if (r > 0 && d < repDefs[r]!) throw new Error(`level entry ${i} continues a list (repetition level ${r}) its definition level ${d} does not reach`);
    for (let k = firstFor[r]!; k < P && d >= slotDef[k]!; k++) {
      const s = counts[k]++;
      const v = d >= nullDef[k]! ? 1 : 0;
      const valid = valids[k]!;
      const offs = offsets[k]!;
      if (owned[k]) {
        valid[s] = v;
        if (offs !== null) offs[s] = counts[k + 1]!;
        if (v === 0 && mapKey[k]) throw new Unsupported(`a null map key in "${nodes[k]!.name}" (Arrow map keys cannot be null)`);
      } else if (s >= slots[k]! || valid[s] !== v || (offs !== null && offs[s] !== counts[k + 1])) {
        throw disagree(nodes[k]!, leaf, st[k]!, `slot ${s}`);
      }
    }
  }
  if (counts[0] !== rows) throw new Error(`the levels hold ${counts[0]} rows, the row group has ${rows}`);
  for (let k = 0; k < P; k++) {
    const state = st[k]!;
    const end = k + 1 < P ? counts[k + 1]! : 0;
    if (own[k]) {
      state.slots = counts[k]!;
      if (state.offsets) state.offsets[state.slots] = end;
    } else if (state.slots !== counts[k] || (state.offsets && state.offsets[state.slots] !== end)) {
      throw disagree(nodes[k]!, leaf, state, 'the slot count');
    }
  }
}

function disagree(x: NestedNode, leaf: LeafNode, state: NodeState, where: string): Error {
  return new Error(`leaves "${state.leaf}" and "${leaf.name}" disagree on ${where} of "${x.name}"`);
}

function build(x: NestedNode, states: Map<NestedNode, NodeState>, values: Map<LeafNode, ArrowValues | null>): Data {
  const st = states.get(x)!;
  const length = st.slots;
  if (x.kind === 'leaf' && x.type.typeId === Type.Null) return makeData({ type: x.type as Null, length });
  const { bitmap, nulls } = packMask(st.valid, length);
  const nullBitmap = nulls ? bitmap : null;
  if (x.kind === 'leaf') return leafData(x.type, values.get(x)!, st.valid, length, nulls, nullBitmap);
  if (x.kind === 'struct') {
    const children = x.children.map((c) => build(c, states, values));
    return makeData({ type: x.type as Struct, length, nullCount: nulls, nullBitmap, children });
  }
  const child = build(x.child, states, values);
  const valueOffsets = st.offsets!.subarray(0, length + 1);
  if (x.type.typeId === Type.Map) return makeData({ type: x.type as Map_, length, nullCount: nulls, nullBitmap, valueOffsets, child });
  return makeData({ type: x.type as List, length, nullCount: nulls, nullBitmap, valueOffsets, child });
}

/** Leaf data of `length` slots; the valid slots take the dense values in order. */
function leafData(type: DataType, v: ArrowValues, valid: Uint8Array, length: number, nulls: number, nullBitmap: Uint8Array | null): Data {
  if (v.count !== length - nulls) throw new Error(`${v.count} values for ${length - nulls} non-null slots`);
  const t = type as any;
  if (v.kind === 'bool') {
    const bits = nulls ? scatterBytes(v.bits, valid, length) : v.bits;
    return makeData({ type: t, length, nullCount: nulls, nullBitmap, data: packMask(bits, length).bitmap });
  }
  if (v.kind === 'bytes') {
    let offsets = v.offsets;
    if (nulls) {
      // a null slot repeats the previous end: the bytes need no copy
      offsets = new Int32Array(length + 1);
      for (let s = 0, p = 0; s < length; s++) offsets[s + 1] = valid[s] ? v.offsets[++p]! : offsets[s]!;
    }
    return makeData({ type: t, length, nullCount: nulls, nullBitmap, valueOffsets: offsets, data: v.data });
  }
  if (!nulls) return makeData({ type: t, length, nullCount: 0, data: v.array });
  const { array, stride } = v;
  const Ctor = array.constructor as new (n: number) => typeof array;
  const out = new Ctor(length * stride);
  for (let s = 0, p = 0; s < length; s++) {
    if (!valid[s]) continue;
    if (stride === 1) (out as Float64Array)[s] = (array as Float64Array)[p]!;
    else for (let k = 0; k < stride; k++) (out as Uint8Array)[s * stride + k] = (array as Uint8Array)[p * stride + k]!;
    p++;
  }
  return makeData({ type: t, length, nullCount: nulls, nullBitmap, data: out });
}

function scatterBytes(dense: Uint8Array, valid: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let s = 0, p = 0; s < length; s++) if (valid[s]) out[s] = dense[p++]!;
  return out;
}
