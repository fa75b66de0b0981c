/**
 * Row count of an `.arrow` deletion file without decoding its body. Lance writes the deleted row
 * offsets of a fragment from a set (so they are distinct) as an Arrow IPC file with one `uint32`
 * column, ZSTD-compressed, which apache-arrow JS cannot decompress. The count is the `length` of
 * the record batches, read from the IPC message headers (`format/Message.fbs`): a few flatbuffer
 * fields, read here with bounds-checked `DataView` accesses.
 *
 * @module
 */

const FILE_MAGIC = 'ARROW1';
const CONTINUATION = 0xffffffff;
const HEADER_RECORD_BATCH = 3;
const HEADER_DICTIONARY_BATCH = 2;

/** Number of rows in the record batches of an Arrow IPC file or stream; throws a plain `Error` when malformed. */
export function arrowIpcRowCount(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = hasFileMagic(bytes) ? 8 : 0;
  let rows = 0;
  let batches = 0;
  while (pos + 4 <= bytes.length) {
    let size = view.getUint32(pos, true);
    pos += 4;
    if (size === CONTINUATION) {
      size = view.getUint32(pos, true);
      pos += 4;
    }
    if (size === 0) break; // end-of-stream marker
    if (size > bytes.length - pos) throw new Error(`IPC message header of ${size} bytes runs past the end of the file`);
    const msg = readMessage(new DataView(bytes.buffer, bytes.byteOffset + pos, size));
    pos += size;
    if (msg.bodyLength > BigInt(bytes.length - pos)) throw new Error(`IPC message body of ${msg.bodyLength} bytes runs past the end of the file`);
    pos += Number(msg.bodyLength);
    if (msg.headerType === HEADER_DICTIONARY_BATCH) throw new Error('a deletion file has no dictionaries');
    if (msg.headerType !== HEADER_RECORD_BATCH) continue;
    if (msg.columns !== 1) throw new Error(`record batch has ${msg.columns} columns, expected the one column of row offsets`);
    if (msg.nullCount !== 0n) throw new Error('row offsets contain nulls');
    rows += Number(msg.length);
    batches++;
  }
  if (batches === 0) throw new Error('no record batch of row offsets');
  return rows;
}

function hasFileMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < FILE_MAGIC.length; i++) if (bytes[i] !== FILE_MAGIC.charCodeAt(i)) return false;
  return true;
}

interface MessageSummary {
  headerType: number;
  bodyLength: bigint;
  /** Record batch rows (0 for other messages). */
  length: bigint;
  /** Field nodes of a record batch. */
  columns: number;
  /** Null count of the first field node. */
  nullCount: bigint;
}

/** Reads the few fields of a `Message` table (and its `RecordBatch` header) that the count needs. */
function readMessage(v: DataView): MessageSummary {
  const root = v.getUint32(0, true);
  const headerType = fieldOffset(v, root, 1) ? v.getUint8(root + fieldOffset(v, root, 1)) : 0;
  const bodyOff = fieldOffset(v, root, 3);
  const bodyLength = bodyOff ? v.getBigInt64(root + bodyOff, true) : 0n;
  if (bodyLength < 0n) throw new Error('negative IPC body length');
  const summary: MessageSummary = { headerType, bodyLength, length: 0n, columns: 0, nullCount: 0n };
  if (headerType !== HEADER_RECORD_BATCH) return summary;
  const headerOff = fieldOffset(v, root, 2);
  if (!headerOff) throw new Error('record batch message without header');
  const batch = root + headerOff + v.getUint32(root + headerOff, true);
  const lengthOff = fieldOffset(v, batch, 0);
  summary.length = lengthOff ? v.getBigInt64(batch + lengthOff, true) : 0n;
  if (summary.length < 0n || summary.length > 0xffffffffn) throw new Error(`record batch length ${summary.length} is out of range`);
  const nodesOff = fieldOffset(v, batch, 1);
  if (nodesOff) {
    const vec = batch + nodesOff + v.getUint32(batch + nodesOff, true);
    summary.columns = v.getUint32(vec, true);
    if (summary.columns > 0) summary.nullCount = v.getBigInt64(vec + 4 + 8, true); // FieldNode {length, null_count}
  }
  return summary;
}

/** Offset of field `slot` inside table `table`, or 0 when absent (flatbuffers vtable lookup). */
function fieldOffset(v: DataView, table: number, slot: number): number {
  const vtable = table - v.getInt32(table, true);
  const vtableSize = v.getUint16(vtable, true);
  const at = 4 + slot * 2;
  return at < vtableSize ? v.getUint16(vtable + at, true) : 0;
}
