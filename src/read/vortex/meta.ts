/**
 * The parts of a Vortex file a value reader needs: the root dtype, the footer's encoding and layout
 * dictionaries and segment map, and the layout tree with each node's metadata bytes (a flat layout may
 * carry its array tree there). Decoded with the scanner's bounded readers, as the parquet reader reuses
 * the parquet scanner's footer code; every read goes through a {@link ByteSource} (size and budget checked).
 */
import { LakemapError } from '../../errors.js';
import { readDType, type VortexDType } from '../../../scanners/vortex/dtype.js';
import { rootTable, type FlatTable } from '../../../scanners/vortex/flatbuffer-reader.js';
import { readFooter, type VortexFooter } from '../../../scanners/vortex/footer.js';
import { readLayout, type LayoutNode } from '../../../scanners/vortex/layout.js';
import { readPostscript, type FooterSegment } from '../../../scanners/vortex/postscript.js';
import { checkLeadingMagic, readTrailer } from '../../../scanners/vortex/trailer.js';
import type { ByteSource } from '../source-file.js';

/** A layout node with its metadata bytes (slot 2 of `table Layout`). */
export interface VortexLayout extends Omit<LayoutNode, 'children'> {
  /** Layout metadata (empty when absent). */
  metadata: Uint8Array;
  /** Child layouts. */
  children: VortexLayout[];
}

/** What the reader needs from a file's footer. */
export interface VortexFileMeta {
  /** Root dtype. */
  dtype: VortexDType;
  /** Encoding and layout dictionaries, segment map. */
  footer: VortexFooter;
  /** Root layout. */
  layout: VortexLayout;
}

/** Bytes read at once from the end of the file (the footer segments usually lie inside). */
export const VORTEX_TAIL_BYTES = 65536;
/** Slot of `metadata` and `children` in `table Layout`. */
const LAYOUT_METADATA = 2, LAYOUT_CHILDREN = 3;

/** Reads and checks the footer of `file`. */
export function readVortexMeta(file: ByteSource): VortexFileMeta {
  const path = file.rel;
  const tailLength = Math.min(file.size, VORTEX_TAIL_BYTES);
  const tailStart = file.size - tailLength;
  const tail = file.read(tailStart, tailLength, 'the Vortex footer');
  const trailer = readTrailer(path, file.size, tail);
  const bytesAt = (offset: number, length: number, what: string): Uint8Array =>
    offset >= tailStart ? tail.subarray(offset - tailStart, offset - tailStart + length) : file.read(offset, length, what);
  const segment = (s: FooterSegment, name: string): Uint8Array => bytesAt(s.offset, s.length, `the ${name} segment`);

  checkLeadingMagic(path, bytesAt(0, 4, 'the leading magic'));
  const postscript = readPostscript(path, bytesAt(trailer.postscriptOffset, trailer.postscriptLength, 'the postscript'), trailer.postscriptOffset);
  if (!postscript.dtype) {
    throw new LakemapError('UNSUPPORTED', `${path}: the file was written without its dtype (exclude_dtype); lakemap cannot read its values`, { path });
  }
  const dtype = readDType(path, segment(postscript.dtype, 'dtype'));
  const footer = readFooter(path, segment(postscript.footer, 'footer'), trailer.postscriptOffset);
  const layoutBytes = segment(postscript.layout, 'layout');
  const tree = readLayout(path, layoutBytes, footer, dtype);
  const layout = withMetadata(tree, rootTable(layoutBytes, 'layout segment', { maxDepth: 64, maxTables: 1_000_000 }));
  return { dtype, footer, layout };
}

/** The scanner's checked tree, given each node's metadata from the same flatbuffer. */
function withMetadata(node: LayoutNode, t: FlatTable): VortexLayout {
  const tables = t.tableVector(LAYOUT_CHILDREN);
  return {
    id: node.id,
    rows: node.rows,
    segments: node.segments,
    metadata: t.bytesVector(LAYOUT_METADATA) ?? new Uint8Array(0),
    children: node.children.map((c, i) => withMetadata(c, tables[i]!)),
  };
}
