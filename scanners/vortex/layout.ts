/**
 * The root layout (`layout.fbs` table `Layout`), decoded into a plain tree and checked against the
 * footer's dictionaries and the dtype: layout ids resolve, segment ids exist, and the row counts the
 * built-in layouts imply agree (a chunked layout's chunks sum to its rows, struct fields and zoned / dict
 * data children have the parent's rows). Layouts of unknown ids are kept as opaque nodes: the metadata
 * scan never needs to understand them.
 */
import { corruptFile } from '../../src/scanner.js';
import type { VortexDType } from './dtype.js';
import { rootTable, type FlatTable } from './flatbuffer-reader.js';
import type { VortexFooter } from './footer.js';

/** One layout node. */
export interface LayoutNode {
  /** Layout id, e.g. `vortex.chunked` (resolved through the footer's layout dictionary). */
  id: string;
  /** Rows this layout represents. */
  rows: number;
  /** Indexes into the footer's segment map. */
  segments: number[];
  /** Child layouts. */
  children: LayoutNode[];
}

// Slots of `table Layout`.
const ENCODING = 0, ROW_COUNT = 1, CHILDREN = 3, SEGMENTS = 4;

/** Layout ids whose children are row-wise chunks (`vortex.chunked`). */
export const CHUNKED = 'vortex.chunked';
/** Struct layout: one child per field, preceded by a validity child for a nullable struct (since after 0.36). */
export const STRUCT = 'vortex.struct';
/** Zone-map layouts: child 0 holds the data, child 1 the zone statistics (`vortex.stats` is the old id). */
export const ZONED = ['vortex.zoned', 'vortex.stats'];
/** Dictionary layout: child 0 holds the values, child 1 the codes (one per row). */
export const DICT = 'vortex.dict';

/** Decodes the layout segment. `dtype` is the file's root dtype, or undefined when not known. */
export function readLayout(path: string, bytes: Uint8Array, footer: VortexFooter, dtype: VortexDType | undefined): LayoutNode {
  const root = rootTable(bytes, 'layout segment', { maxDepth: 64, maxTables: 1_000_000 });
  return decode(path, root, footer, dtype, 'root');
}

function decode(path: string, t: FlatTable, footer: VortexFooter, dtype: VortexDType | undefined, where: string): LayoutNode {
  const encoding = t.u16(ENCODING);
  const id = footer.layoutIds[encoding];
  if (id === undefined) {
    throw corruptFile(path, `layout ${where} uses layout id #${encoding}, but the footer lists only ${footer.layoutIds.length}`);
  }
  const rows = t.u64Safe(ROW_COUNT);
  if (rows === undefined) throw corruptFile(path, `layout ${where} claims ${t.u64(ROW_COUNT)} rows, more than 2^53`);
  const segments = t.u32Vector(SEGMENTS);
  for (const s of segments) {
    if (s >= footer.segments.length) {
      throw corruptFile(path, `layout ${where} points at segment ${s}, but the segment map has ${footer.segments.length}`);
    }
  }
  const fbChildren = t.tableVector(CHILDREN);
  const childDTypes = childTypes(path, id, dtype, fbChildren.length, where);
  const children = fbChildren.map((c, i) => decode(path, c, footer, childDTypes[i], `${where}/${i}`));
  const node: LayoutNode = { id, rows, segments, children };
  checkRows(path, node, where);
  return node;
}

/** The dtypes of a layout's children where they are known (only struct layouts change them). */
function childTypes(path: string, id: string, dtype: VortexDType | undefined, count: number, where: string): (VortexDType | undefined)[] {
  if (id === CHUNKED) return new Array<VortexDType | undefined>(count).fill(dtype);
  if (ZONED.includes(id)) return [dtype];
  if (id !== STRUCT || dtype === undefined) return [];
  if (dtype.kind !== 'struct') throw corruptFile(path, `layout ${where} is a struct layout but its dtype is ${dtype.kind}`);
  // Vortex 0.36 wrote no validity child; later writers put one first for a nullable struct. Both are valid.
  const validity = dtype.nullable && count === dtype.fields.length + 1 ? 1 : 0;
  if (count !== dtype.fields.length + validity) {
    throw corruptFile(path, `struct layout ${where} has ${count} children, but its dtype has ${dtype.fields.length} fields${dtype.nullable ? ' (and maybe validity)' : ''}`);
  }
  const bool: VortexDType = { kind: 'bool', nullable: false };
  return validity ? [bool, ...dtype.fields] : dtype.fields;
}

function checkRows(path: string, node: LayoutNode, where: string): void {
  const { id, rows, children } = node;
  const mismatch = (what: string, got: number): never => {
    throw corruptFile(path, `layout ${where} (${id}) has ${rows} rows but ${what} has ${got}`);
  };
  if (id === CHUNKED) {
    const sum = children.reduce((n, c) => n + c.rows, 0);
    if (sum !== rows) mismatch('the sum of its chunks', sum);
  } else if (id === STRUCT) {
    children.forEach((c, i) => c.rows !== rows && mismatch(`child ${i}`, c.rows));
  } else if (ZONED.includes(id)) {
    if (children.length !== 2) throw corruptFile(path, `zoned layout ${where} has ${children.length} children, expected data and zones`);
    if (children[0]!.rows !== rows) mismatch('its data child', children[0]!.rows);
  } else if (id === DICT) {
    if (children.length !== 2) throw corruptFile(path, `dict layout ${where} has ${children.length} children, expected values and codes`);
    if (children[1]!.rows !== rows) mismatch('its codes child', children[1]!.rows);
  }
}

/** Every layout id that occurs in the tree, in first-seen order. */
export function layoutIdsUsed(root: LayoutNode): string[] {
  const seen = new Set<string>();
  const walk = (n: LayoutNode): void => {
    seen.add(n.id);
    n.children.forEach(walk);
  };
  walk(root);
  return [...seen];
}
