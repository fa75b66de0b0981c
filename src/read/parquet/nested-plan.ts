/**
 * How to assemble a nested top-level column (structs, maps, lists of lists or of structs, legacy
 * 2-level and unannotated repeated fields, null-typed values) from its leaf columns' levels.
 *
 * The plan mirrors, node for node, the Arrow type `scanners/parquet/schema.ts` maps the column to —
 * the same LIST/MAP rules and the backward-compatibility rules of parquet-format's `LogicalTypes.md` —
 * and walks the output type alongside: where the two disagree the column is refused, never guessed.
 * Each node carries the levels that decide it (Dremel): which level entries open one of its slots,
 * and at which definition level a slot is non-null.
 */
import { DataType, Type, type Field } from 'apache-arrow';
import { ConvertedType, Repetition, type SchemaElement } from '../../../scanners/parquet/types.js';
import type { Leaf } from './chunk.js';
import { Unsupported } from './rare-encodings.js';

interface SlotRule {
  /** An entry opens a slot of this node when its repetition level is at most this … */
  slotRep: number;
  /** … and its definition level at least this (the enclosing list has an element there). */
  slotDef: number;
  /** A slot is non-null when the entry's definition level reaches this. */
  nullDef: number;
  /** A map key: Arrow keys cannot be null, so a null key refuses the column. */
  mapKey?: boolean;
}

/** A leaf column: its values fill the slots whose definition level is the leaf's maximum. */
export interface LeafNode extends SlotRule {
  kind: 'leaf';
  /** Index of the leaf among the file's leaf columns (its column chunk in each row group). */
  leafIndex: number;
  /** Dotted path, for messages. */
  name: string;
  leaf: Leaf;
  /** Output type (Arrow). */
  type: DataType;
}

/** A struct: one slot per slot of its parent, children alongside. */
export interface StructNode extends SlotRule {
  kind: 'struct';
  name: string;
  type: DataType;
  children: NestedNode[];
}

/** A list (or map): one repeated parquet field; its child has a slot per element. */
export interface ListNode extends SlotRule {
  kind: 'list';
  name: string;
  type: DataType;
  /** Repetition level of the repeated field: an entry at this level continues the list. */
  rep: number;
  /** Definition level at which the list has an element. */
  elemDef: number;
  child: NestedNode;
}

/** A node of a nested column's plan. */
export type NestedNode = LeafNode | StructNode | ListNode;

/** The plan of one nested top-level column. */
export interface NestedPlan {
  root: NestedNode;
  /** Each leaf with the nodes from the root down to it. */
  paths: { leaf: LeafNode; nodes: NestedNode[] }[];
}

interface PNode {
  el: SchemaElement;
  children: PNode[] | undefined;
  leafIndex: number;
}

interface Levels {
  def: number;
  rep: number;
  slotRep: number;
  slotDef: number;
  path: string;
}

/**
 * The plan for top-level column `name` read as `type` (the collection's type, which the reader has
 * checked against the file's), or `Unsupported` saying why it cannot be read faithfully.
 */
export function planNested(elements: readonly SchemaElement[], name: string, type: DataType): NestedPlan {
  const top = topNode(elements, name);
  const root = fieldNode(top, { def: 0, rep: 0, slotRep: 0, slotDef: 0, path: name }, type);
  const paths: NestedPlan['paths'] = [];
  const walk = (n: NestedNode, above: NestedNode[]): void => {
    const nodes = [...above, n];
    if (n.kind === 'leaf') paths.push({ leaf: n, nodes });
    else if (n.kind === 'list') walk(n.child, nodes);
    else {
      if (n.children.length === 0) throw new Unsupported(`the empty struct "${n.name}" (no leaf column to read its rows from)`);
      for (const c of n.children) walk(c, nodes);
    }
  };
  walk(root, []);
  return { root, paths };
}

/** True when `type` holds a Null type anywhere (the flat decoder does not build Null data). */
export function hasNullType(type: DataType): boolean {
  return type.typeId === Type.Null || (type.children ?? []).some((c: Field) => hasNullType(c.type));
}

function topNode(elements: readonly SchemaElement[], name: string): PNode {
  let next = 1;
  let leaves = 0;
  const read = (): PNode => {
    const el = elements[next++];
    if (!el) throw new Error('the schema list ends inside a group');
    const n = el.numChildren;
    if (!((n !== undefined && n > 0) || (el.type === undefined && n !== undefined))) return { el, children: undefined, leafIndex: leaves++ };
    const children: PNode[] = [];
    for (let i = 0; i < n!; i++) children.push(read());
    return { el, children, leafIndex: -1 };
  };
  const count = elements[0]?.numChildren ?? 0;
  for (let i = 0; i < count; i++) {
    const node = read();
    if (node.el.name === name) return node;
  }
  throw new Error(`column "${name}" is not in the schema`);
}

function expectType(type: DataType, id: Type, what: string, path: string): void {
  if (type.typeId === Type.FixedSizeList) throw new Unsupported(`"${path}" read as ${String(type)} (a declared dim inside a nested column)`);
  if (type.typeId !== id) throw new Unsupported(`"${path}" as Arrow ${String(type)} (the file holds ${what} there)`);
}

function childType(type: DataType, i: number): DataType {
  return (type.children[i] as Field).type;
}

/** `schema.ts` fieldOf: a repeated field outside a LIST is a never-null list of never-null values. */
function fieldNode(node: PNode, at: Levels, type: DataType): NestedNode {
  const el = node.el;
  const path = at.path;
  if (el.repetition === Repetition.REPEATED) {
    expectType(type, Type.List, 'a repeated field', path);
    const inner: Levels = { def: at.def + 1, rep: at.rep + 1, slotRep: at.rep + 1, slotDef: at.def + 1, path: `${path}[]` };
    const child = typeNode(node, inner, childType(type, 0));
    return { kind: 'list', name: path, type, slotRep: at.slotRep, slotDef: at.slotDef, nullDef: at.def, rep: inner.rep, elemDef: inner.def, child };
  }
  if (el.repetition !== Repetition.OPTIONAL && el.repetition !== Repetition.REQUIRED) throw new Error(`field "${path}" has no valid repetition type`);
  return typeNode(node, { ...at, def: at.def + (el.repetition === Repetition.OPTIONAL ? 1 : 0) }, type);
}

/** `schema.ts` typeOf: the node's own repetition is already counted in `at`. */
function typeNode(node: PNode, at: Levels, type: DataType): NestedNode {
  const el = node.el;
  const rule = { slotRep: at.slotRep, slotDef: at.slotDef, nullDef: at.def };
  if (!node.children) {
    if (type.children?.length || type.typeId === Type.FixedSizeList) expectType(type, Type.Null, 'a leaf column', at.path);
    const leaf: Leaf = { type: el.type!, typeLength: el.typeLength, maxDef: at.def, maxRep: at.rep, allLevels: true };
    return { kind: 'leaf', name: at.path, leafIndex: node.leafIndex, leaf, type, ...rule };
  }
  const kind = el.logicalType?.kind;
  if (kind === 'list' || el.convertedType === ConvertedType.LIST) {
    const list = listNode(node, at, type);
    if (list) return list;
  } else if (kind === 'map' || el.convertedType === ConvertedType.MAP || el.convertedType === ConvertedType.MAP_KEY_VALUE) {
    const map = mapNode(node, at, type);
    if (map) return map;
  }
  expectType(type, Type.Struct, 'a struct', at.path);
  if (type.children.length !== node.children.length) throw new Unsupported(`"${at.path}" as ${String(type)} (the file's struct has ${node.children.length} fields)`);
  const children = node.children.map((c, i) => fieldNode(c, { ...at, path: `${at.path}.${c.el.name}` }, childType(type, i)));
  return { kind: 'struct', name: at.path, type, children, ...rule };
}

/** `schema.ts` listType, rules in the same order; `undefined` when the group is read as a struct. */
function listNode(node: PNode, at: Levels, type: DataType): ListNode | undefined {
  const children = node.children!;
  if (children.length !== 1) return undefined;
  const repeated = children[0]!;
  if (repeated.el.repetition !== Repetition.REPEATED) return undefined;
  expectType(type, Type.List, 'a list', at.path);
  const inner: Levels = { def: at.def + 1, rep: at.rep + 1, slotRep: at.rep + 1, slotDef: at.def + 1, path: `${at.path}[]` };
  const elemType = childType(type, 0);
  const rc = repeated.children;
  let child: NestedNode;
  if (!rc || rc.length !== 1 || repeated.el.name === 'array' || repeated.el.name === `${node.el.name}_tuple`) child = typeNode(repeated, inner, elemType);
  else child = fieldNode(rc[0]!, inner, elemType);
  return { kind: 'list', name: at.path, type, slotRep: at.slotRep, slotDef: at.slotDef, nullDef: at.def, rep: inner.rep, elemDef: inner.def, child };
}

/** `schema.ts` mapType: a map of entries structs, or (no value field) a list of keys. */
function mapNode(node: PNode, at: Levels, type: DataType): ListNode | undefined {
  const children = node.children!;
  if (children.length !== 1) return undefined;
  const kv = children[0]!;
  const kvc = kv.children;
  if (kv.el.repetition !== Repetition.REPEATED || !kvc || kvc.length < 1 || kvc.length > 2) return undefined;
  const inner: Levels = { def: at.def + 1, rep: at.rep + 1, slotRep: at.rep + 1, slotDef: at.def + 1, path: `${at.path}{}` };
  const key = kvc[0]!;
  if (key.el.repetition === Repetition.REPEATED) throw new Unsupported(`the repeated map key "${inner.path}.${key.el.name}"`);
  const keyAt: Levels = { ...inner, def: inner.def + (key.el.repetition === Repetition.OPTIONAL ? 1 : 0), path: `${inner.path}.${key.el.name}` };
  const base = { kind: 'list' as const, name: at.path, type, slotRep: at.slotRep, slotDef: at.slotDef, nullDef: at.def, rep: inner.rep, elemDef: inner.def };
  if (kvc.length === 1) {
    expectType(type, Type.List, 'a map without values (a list of keys)', at.path);
    return { ...base, child: markKey(typeNode(key, keyAt, childType(type, 0))) };
  }
  expectType(type, Type.Map, 'a map', at.path);
  const entries = childType(type, 0);
  expectType(entries, Type.Struct, 'map entries', inner.path);
  if (entries.children.length !== 2) throw new Unsupported(`"${inner.path}" as ${String(entries)}`);
  const keyNode = markKey(typeNode(key, keyAt, childType(entries, 0)));
  const valueNode = fieldNode(kvc[1]!, { ...inner, path: `${inner.path}.${kvc[1]!.el.name}` }, childType(entries, 1));
  const struct: StructNode = { kind: 'struct', name: inner.path, type: entries, children: [keyNode, valueNode], slotRep: inner.slotRep, slotDef: inner.slotDef, nullDef: inner.def };
  return { ...base, child: struct };
}

function markKey(n: NestedNode): NestedNode {
  n.mapKey = true;
  return n;
}
