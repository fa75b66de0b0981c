/**
 * Which segments {@link readVortexRange} reads for each batch, without reading them: the same layout
 * walk as its `columnPieces`, with the same per-column caches (the last flat segment decoded, the
 * dictionaries' values decoded once), so a remote read fetches exactly those byte ranges first.
 */
import { topLevelFields, type VortexDType } from '../../../scanners/vortex/dtype.js';
import { CHUNKED, DICT, STRUCT, ZONED } from '../../../scanners/vortex/layout.js';
import type { ColumnRequest } from '../parquet/reader.js';
import type { VortexFileMeta, VortexLayout } from './meta.js';

interface ColumnState {
  dtype: VortexDType;
  select: number | undefined;
  lastFlat: VortexLayout | undefined;
  dictDone: Set<VortexLayout>;
}

/** Plans the segments of successive batches of the given columns; call {@link next} once per batch, in order. */
export class VortexSegmentPlan {
  private readonly columns: ColumnState[];

  constructor(private readonly meta: VortexFileMeta, columns: readonly ColumnRequest[]) {
    const fields = topLevelFields(meta.dtype);
    this.columns = [];
    for (const c of columns) {
      const index = fields.findIndex((f) => f.name === c.external);
      if (index < 0) continue; // the reader refuses it before reading anything
      this.columns.push({ dtype: fields[index]!.dtype, select: meta.dtype.kind === 'struct' ? index : undefined, lastFlat: undefined, dictDone: new Set() });
    }
  }

  /** The byte ranges `[start, end)` of the segments read for rows `[from, to)`. */
  next(from: number, to: number): [number, number][] {
    const segments = new Set<number>();
    for (const c of this.columns) this.walk(c, this.meta.layout, this.meta.dtype, c.select, from, to, 0, segments);
    return [...segments].map((i) => {
      const s = this.meta.footer.segments[i];
      if (!s) throw new RangeError(`segment ${i} is not in the footer's segment map`);
      return [s.offset, s.offset + s.length];
    });
  }

  private walk(c: ColumnState, node: VortexLayout, dtype: VortexDType, select: number | undefined, from: number, to: number, depth: number, out: Set<number>): void {
    if (depth > 64 || to <= from) return;
    if (node.id === STRUCT && dtype.kind === 'struct') {
      const v = node.children.length === dtype.fields.length + 1 ? 1 : 0;
      if (select !== undefined) return this.walk(c, node.children[select + v]!, dtype.fields[select]!, undefined, from, to, depth + 1, out);
      if (v) this.walk(c, node.children[0]!, { kind: 'bool', nullable: false }, undefined, from, to, depth + 1, out);
      dtype.fields.forEach((f, i) => this.walk(c, node.children[i + v]!, f, undefined, from, to, depth + 1, out));
      return;
    }
    if (node.id === CHUNKED) {
      let start = 0;
      for (const child of node.children) {
        const end = start + child.rows;
        if (end > from && start < to) this.walk(c, child, dtype, select, Math.max(from, start) - start, Math.min(to, end) - start, depth + 1, out);
        start = end;
      }
      return;
    }
    if (ZONED.includes(node.id)) return this.walk(c, node.children[0]!, dtype, select, from, to, depth + 1, out);
    if (node.id === DICT && select === undefined) {
      const values = node.children[0];
      if (values && !c.dictDone.has(values)) {
        this.walk(c, values, dtype, undefined, 0, values.rows, depth + 1, out);
        c.dictDone.add(values);
      }
      // the codes' dtype does not change which segments are read
      if (node.children[1]) this.walk(c, node.children[1], { kind: 'primitive', ptype: 'u32', nullable: false } as VortexDType, undefined, from, to, depth + 1, out);
      return;
    }
    if (node.id === 'vortex.flat' && c.lastFlat !== node) {
      if (node.segments.length === 1) out.add(node.segments[0]!);
      c.lastFlat = node;
    }
  }
}
