/**
 * The postscript (`footer.fbs` table `Postscript`): where the dtype, layout, statistics and footer
 * segments lie. Every pointer is checked to lie between the leading magic and the postscript.
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';
import { rootTable, type FlatTable } from './flatbuffer-reader.js';

/** Location of one footer segment (`PostscriptSegment`). */
export interface FooterSegment {
  /** Absolute offset in the file. */
  offset: number;
  /** Length in bytes. */
  length: number;
  /** Base-2 exponent of the segment's alignment. */
  alignmentExponent: number;
}

/** The four segments the postscript points at; dtype and statistics are optional. */
export interface Postscript {
  dtype?: FooterSegment;
  layout: FooterSegment;
  statistics?: FooterSegment;
  footer: FooterSegment;
}

// Field slots of `table Postscript` and `table PostscriptSegment`.
const PS_DTYPE = 0, PS_LAYOUT = 1, PS_STATISTICS = 2, PS_FOOTER = 3;
const SEG_OFFSET = 0, SEG_LENGTH = 1, SEG_ALIGNMENT = 2, SEG_COMPRESSION = 3; // slot 4, `_encryption`, is an empty reserved table: ignored, as Vortex does
/** `CompressionSpec.scheme` slot; `None = 0`. */
const COMPRESSION_SCHEME = 0;

/**
 * Decodes the postscript bytes. `postscriptOffset` is where the postscript starts: every segment
 * must end at or before it and start after the leading magic.
 */
export function readPostscript(path: string, bytes: Uint8Array, postscriptOffset: number): Postscript {
  const ps = rootTable(bytes, 'postscript', { maxDepth: 4, maxTables: 64 });
  refusePreStable(path, ps, postscriptOffset);
  const segment = (slot: number, name: string): FooterSegment | undefined => {
    const t = ps.table(slot);
    return t && readSegment(path, t, name, postscriptOffset);
  };
  const layout = segment(PS_LAYOUT, 'layout');
  const footer = segment(PS_FOOTER, 'footer');
  if (!layout) throw corruptFile(path, 'the postscript has no layout segment (required)');
  if (!footer) throw corruptFile(path, 'the postscript has no footer segment (required)');
  const out: Postscript = { layout, footer };
  const dtype = segment(PS_DTYPE, 'dtype');
  const statistics = segment(PS_STATISTICS, 'statistics');
  if (dtype) out.dtype = dtype;
  if (statistics) out.statistics = statistics;
  return out;
}

function readSegment(path: string, t: FlatTable, name: string, postscriptOffset: number): FooterSegment {
  const offset = t.u64(SEG_OFFSET);
  const length = t.u32(SEG_LENGTH);
  const alignmentExponent = t.u8(SEG_ALIGNMENT);
  if (offset < 4n || offset + BigInt(length) > BigInt(postscriptOffset)) {
    throw corruptFile(
      path,
      `the ${name} segment (offset ${offset}, length ${length}) does not lie between the leading magic and the postscript at ${postscriptOffset}`,
    );
  }
  const compression = t.table(SEG_COMPRESSION);
  const scheme = compression?.u8(COMPRESSION_SCHEME) ?? 0;
  if (scheme !== 0) {
    throw new LakemapError('UNSUPPORTED', `${path}: the ${name} segment is compressed (scheme ${scheme}); compressed footer segments are not read`, { path });
  }
  return { offset: Number(offset), length, alignmentExponent };
}

/** Bytes of the pre-stable `struct SegmentSpec { offset: u64; length: u32; alignment_exponent: u8; _compression: u8; _encryption: u16 }`. */
const PRE_STABLE_SEGMENT_SIZE = 16;

/**
 * Vortex development builds before 0.36 (e.g. 0.25) already wrote `VTXF` and version tag 1, but their
 * postscript is a 48-byte table of two *inline structs* (dtype, footer), where the stable one holds four
 * segment *tables* with the footer required in slot 3. A postscript of exactly that older shape, whose
 * two segments lie inside the file, is such a file: refuse it as UNSUPPORTED saying so. Anything else that
 * fails to decode stays CORRUPT_FILE.
 */
function refusePreStable(path: string, ps: FlatTable, postscriptOffset: number): void {
  if (ps.slotCount !== 2 || ps.has(PS_FOOTER)) return;
  const segments = [ps.inlineStruct(0, PRE_STABLE_SEGMENT_SIZE), ps.inlineStruct(1, PRE_STABLE_SEGMENT_SIZE)];
  const fits = segments.every((s) => {
    if (!s) return false;
    const offset = s.view.getBigUint64(s.at, true);
    const length = s.view.getUint32(s.at + 8, true);
    return offset >= 4n && length > 0 && offset + BigInt(length) <= BigInt(postscriptOffset);
  });
  if (!fits) return;
  throw new LakemapError(
    'UNSUPPORTED',
    `${path}: pre-stable Vortex file: it ends in "VTXF" but its postscript has the shape Vortex development builds wrote before 0.36 (two inline segments, dtype and footer); it predates the stable Vortex file format (0.36) and its footer layout; rewrite it with Vortex 0.36 or later`,
    { path },
  );
}
