/**
 * A serialized Vortex array (`array.fbs`, vortex-array `serde.rs`): the data buffers, each preceded by
 * its padding, then an `Array` flatbuffer, then the flatbuffer's length as a little-endian u32. The
 * flatbuffer holds the buffer descriptors (padding, alignment, compression, length) and the tree of
 * `ArrayNode`s (encoding index, metadata bytes, children, indexes of its buffers). A flat layout may keep
 * the flatbuffer in its own metadata instead (protobuf field 1), leaving only the buffers in the segment.
 * Everything is checked against the segment's bytes; nothing is copied.
 */
import { LakemapError, ProtoReader } from '../../scanner.js';
import { FlatbufferError, rootTable, type FlatTable } from '../../../scanners/vortex/flatbuffer-reader.js';

/** One node of the array tree. */
export interface ArrayNode {
  /** Encoding id, e.g. `vortex.primitive`. */
  encoding: string;
  /** Encoding-specific metadata (usually protobuf). */
  metadata: Uint8Array;
  /** Child arrays. */
  children: ArrayNode[];
  /** The node's own buffers, in order (views into the segment). */
  buffers: Uint8Array[];
}

// Slots of `table Array`, `table ArrayNode`, and the `Buffer` struct size.
const ARRAY_ROOT = 0, ARRAY_BUFFERS = 1;
const NODE_ENCODING = 0, NODE_METADATA = 1, NODE_CHILDREN = 2, NODE_BUFFERS = 3;
const BUFFER_STRUCT_SIZE = 8;

/**
 * Parses the segment of a flat layout. `layoutMetadata` is the flat layout's metadata (a protobuf
 * `FlatLayoutMetadata`, whose field 1 may hold the array tree); `encodings` is the footer's dictionary.
 */
export function parseArraySegment(path: string, segment: Uint8Array, layoutMetadata: Uint8Array, encodings: readonly string[]): ArrayNode {
  let tree = inlineTree(layoutMetadata);
  let data = segment;
  if (!tree) {
    if (segment.length < 4) throw new FlatbufferError(`array segment of ${segment.length} bytes cannot hold a flatbuffer length`);
    const fbLength = new DataView(segment.buffer, segment.byteOffset + segment.length - 4, 4).getUint32(0, true);
    if (fbLength + 4 > segment.length) throw new FlatbufferError(`array flatbuffer of ${fbLength} bytes does not fit in its ${segment.length}-byte segment`);
    tree = segment.subarray(segment.length - 4 - fbLength, segment.length - 4);
    data = segment.subarray(0, segment.length - 4 - fbLength);
  }
  const array = rootTable(tree, 'array flatbuffer', { maxDepth: 64, maxTables: 100_000 });
  const buffers = sliceBuffers(path, array, data);
  const root = array.table(ARRAY_ROOT);
  if (!root) throw new FlatbufferError('the array flatbuffer has no root node');
  return node(root, buffers, encodings);
}

/** The array tree kept in a flat layout's metadata (`FlatLayoutMetadata.array_encoding_tree`), if any. */
function inlineTree(metadata: Uint8Array): Uint8Array | undefined {
  if (metadata.length === 0) return undefined;
  const r = new ProtoReader(metadata);
  let tree: Uint8Array | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) tree = r.bytesField();
    else r.skip(f.wireType);
  }
  return tree;
}

function sliceBuffers(path: string, array: FlatTable, data: Uint8Array): Uint8Array[] {
  const specs = array.structVector(ARRAY_BUFFERS, BUFFER_STRUCT_SIZE);
  const out: Uint8Array[] = [];
  if (!specs) return out;
  let offset = 0;
  for (let i = 0; i < specs.length; i++) {
    const at = specs.start + i * BUFFER_STRUCT_SIZE;
    const padding = specs.view.getUint16(at, true);
    const compression = specs.view.getUint8(at + 3);
    const length = specs.view.getUint32(at + 4, true);
    offset += padding;
    if (offset + length > data.length) {
      throw new FlatbufferError(`array buffer ${i} (${length} bytes at ${offset}) runs past the ${data.length} data bytes of its segment`);
    }
    if (compression !== 0) {
      throw new LakemapError('UNSUPPORTED', `${path}: array buffer ${i} is compressed (${compression === 1 ? 'LZ4' : `scheme ${compression}`}); compressed array buffers are not read by lakemap`, { path });
    }
    out.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

function node(t: FlatTable, buffers: readonly Uint8Array[], encodings: readonly string[]): ArrayNode {
  const index = t.u16(NODE_ENCODING);
  const encoding = encodings[index];
  if (encoding === undefined) throw new FlatbufferError(`array node uses encoding #${index}, but the footer lists only ${encodings.length}`);
  const own: Uint8Array[] = [];
  const idx = t.structVector(NODE_BUFFERS, 2);
  if (idx) {
    for (let i = 0; i < idx.length; i++) {
      const b = idx.view.getUint16(idx.start + 2 * i, true);
      const buf = buffers[b];
      if (!buf) throw new FlatbufferError(`array node (${encoding}) points at buffer ${b}, but the segment has ${buffers.length}`);
      own.push(buf);
    }
  }
  return {
    encoding,
    metadata: t.bytesVector(NODE_METADATA) ?? new Uint8Array(0),
    children: t.tableVector(NODE_CHILDREN).map((c) => node(c, buffers, encodings)),
    buffers: own,
  };
}
