/**
 * The footer segment (`footer.fbs` table `Footer`): the dictionary of array encoding ids, the dictionary
 * of layout ids, and the segment map that layouts point into.
 */
import { corruptFile } from '../../src/scanner.js';
import { rootTable } from './flatbuffer-reader.js';

/** One entry of the segment map (`struct SegmentSpec`, 16 bytes). */
export interface SegmentSpec {
  /** Absolute offset in the file. */
  offset: number;
  /** Length in bytes. */
  length: number;
  /** Base-2 exponent of the alignment. */
  alignmentExponent: number;
}

/** The decoded footer. */
export interface VortexFooter {
  /** Array encoding ids, in dictionary order (e.g. `vortex.primitive`, `fastlanes.bitpacked`). */
  arrayEncodings: string[];
  /** Layout ids, in dictionary order; `Layout.encoding` indexes this. */
  layoutIds: string[];
  /** The segment map; `Layout.segments` index this. */
  segments: SegmentSpec[];
}

// Field slots of `table Footer` and the `id` slot of `ArraySpec` / `LayoutSpec`.
const ARRAY_SPECS = 0, LAYOUT_SPECS = 1, SEGMENT_SPECS = 2;
const SPEC_ID = 0;
const SEGMENT_SPEC_SIZE = 16;

/**
 * Decodes the footer and checks its segment map: every segment must lie inside the data area
 * (`dataEnd` is where the postscript starts) and offsets must not decrease, as the Vortex reader requires.
 */
export function readFooter(path: string, bytes: Uint8Array, dataEnd: number): VortexFooter {
  const fb = rootTable(bytes, 'footer segment');
  const specIds = (slot: number, kind: string): string[] =>
    fb.tableVector(slot).map((t, i) => {
      const id = t.string(SPEC_ID);
      if (id === undefined) throw corruptFile(path, `${kind} spec ${i} of the footer has no id (required)`);
      return id;
    });
  const arrayEncodings = specIds(ARRAY_SPECS, 'array');
  const layoutIds = specIds(LAYOUT_SPECS, 'layout');
  const specs = fb.structVector(SEGMENT_SPECS, SEGMENT_SPEC_SIZE);
  if (!specs) throw corruptFile(path, 'the footer has no segment map (segment_specs)');
  const { view, start, length: count } = specs;
  const segments: SegmentSpec[] = [];
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const at = start + i * SEGMENT_SPEC_SIZE;
    const hi = view.getUint32(at + 4, true);
    const offset = hi * 0x1_0000_0000 + view.getUint32(at, true); // exact below 2^53; beyond, surely past dataEnd
    const length = view.getUint32(at + 8, true);
    if (offset < 4 || hi >= 0x200000 || offset + length > dataEnd) {
      throw corruptFile(path, `segment ${i} (offset ${view.getBigUint64(at, true)}, length ${length}) lies outside the data area of the file (4..${dataEnd})`);
    }
    if (offset < previous) throw corruptFile(path, `segment offsets are not ordered (segment ${i} starts at ${offset}, before ${previous})`);
    previous = offset;
    segments.push({ offset, length, alignmentExponent: view.getUint8(at + 12) });
  }
  return { arrayEncodings, layoutIds, segments };
}
