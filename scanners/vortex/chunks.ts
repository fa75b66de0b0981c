/**
 * Units of a Vortex file: row ranges cut at the top-level chunk boundaries, so every segment lakemap
 * makes holds whole chunks. A chunked root gives its chunks directly. A struct root (the default
 * writer's shape: struct → per column zoned → dict → chunked → flat) gives the boundaries every column
 * shares, so no column chunk straddles two units. Byte sizes come from the segment map: a layout that
 * lies inside one unit counts wholly there; bytes shared by several units (zone maps, dictionary values,
 * a chunk spanning units) are spread over them in proportion to rows, so the units' bytes add up to the
 * bytes of all segments the layout references.
 */
import type { UnitInfo } from '../../src/scanner.js';
import type { SegmentSpec } from './footer.js';
import { CHUNKED, DICT, STRUCT, ZONED, type LayoutNode } from './layout.js';

/** Row boundaries (ascending, from 0 to `node.rows`) at which `node` splits into whole chunks. */
export function chunkBoundaries(node: LayoutNode): number[] {
  if (node.id === CHUNKED) {
    const out = [0];
    let at = 0;
    for (const c of node.children) {
      if (c.rows === 0) continue; // an empty chunk adds no boundary
      at += c.rows;
      out.push(at);
    }
    if (out.length === 1) out.push(0);
    return out;
  }
  const aligned = rowAlignedChildren(node);
  if (node.id === STRUCT && aligned.length > 0) {
    let common = new Set(chunkBoundaries(aligned[0]!));
    for (const c of aligned.slice(1)) {
      const b = new Set(chunkBoundaries(c));
      common = new Set([...common].filter((x) => b.has(x)));
    }
    return [...common].sort((a, b) => a - b);
  }
  if (aligned.length === 1) return chunkBoundaries(aligned[0]!);
  return [0, node.rows];
}

/**
 * Children that cover the same rows as their parent, in the parent's row order: struct fields (and
 * validity), the data child of a zoned layout, the codes child of a dict layout. Other children
 * (zone tables, dictionary values, children of unknown layouts) are auxiliary.
 */
function rowAlignedChildren(node: LayoutNode): LayoutNode[] {
  if (node.id === STRUCT) return node.children;
  if (ZONED.includes(node.id)) return node.children.slice(0, 1);
  if (node.id === DICT) return node.children.slice(1, 2);
  return [];
}

/** Units of the file: one per range between consecutive boundaries, with its bytes. */
export function unitsOf(root: LayoutNode, segments: readonly SegmentSpec[]): UnitInfo[] {
  if (root.rows === 0) return [];
  const bounds = chunkBoundaries(root);
  const bytes = new Array<number>(bounds.length - 1).fill(0);
  const unitAt = (row: number): number => {
    let lo = 0, hi = bounds.length - 2; // last unit whose start <= row
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const ownBytes = (n: LayoutNode): number => n.segments.reduce((s, i) => s + segments[i]!.length, 0);
  const subtreeBytes = (n: LayoutNode): number => n.children.reduce((s, c) => s + subtreeBytes(c), ownBytes(n));

  /** Spreads `amount` bytes over the units overlapping rows [start, end), in proportion to rows. */
  const spread = (amount: number, start: number, end: number): void => {
    if (amount === 0) return;
    const first = unitAt(start);
    const last = end > start ? unitAt(end - 1) : first;
    if (first === last) {
      bytes[first]! += amount;
      return;
    }
    let given = 0;
    for (let u = first; u < last; u++) {
      const overlap = Math.min(end, bounds[u + 1]!) - Math.max(start, bounds[u]!);
      const share = Math.floor((amount * overlap) / (end - start));
      bytes[u]! += share;
      given += share;
    }
    bytes[last]! += amount - given;
  };

  const place = (n: LayoutNode, start: number): void => {
    const end = start + n.rows;
    if (n.rows === 0 || unitAt(start) === unitAt(end - 1)) {
      spread(subtreeBytes(n), start, end);
      return;
    }
    spread(ownBytes(n), start, end);
    const aligned = new Set(n.id === CHUNKED ? n.children : rowAlignedChildren(n));
    let at = start;
    for (const c of n.children) {
      if (!aligned.has(c)) {
        spread(subtreeBytes(c), start, end);
        continue;
      }
      place(c, at);
      if (n.id === CHUNKED) at += c.rows;
    }
  };
  place(root, 0);
  return bytes.map((byteSize, i) => ({ rows: bounds[i + 1]! - bounds[i]!, byteSize }));
}
