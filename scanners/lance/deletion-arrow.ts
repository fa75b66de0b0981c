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
  const offsets = hasFileMagic(bytes) ? recordBatchOffsets(view) : undefined;
  let rows = 0;
  let batches = 0;
  const count = (msg: MessageSummary): void => {
    if (msg.headerType === HEADER_DICTIONARY_BATCH) throw new Error('a deletion file has no dictionaries');
    if (msg.headerType !== HEADER_RECORD_BATCH) return;
    if (msg.columns !== 1) throw new Error(`record batch has ${msg.columns} columns, expected the one column of row offsets`);
    if (msg.nullCount !== 0n) throw new Error('row offsets contain nulls');
    rows += Number(msg.length);
    batches++;
  };
  if (offsets) {
    // File format: the footer's blocks locate each record batch (writers may pad after the magic).
    for (const at of offsets) {
      const { msg } = readEncapsulated(view, at);
      if (!msg) throw new Error(`footer points at an end-of-stream marker (offset ${at})`);
      count(msg);
    }
  } else {
    let pos = 0;
    while (pos + 4 <= bytes.length) {
      const { msg, end } = readEncapsulated(view, pos);
      if (!msg) break; // end-of-stream marker
      count(msg);
      pos = end;
    }
  }
  if (batches === 0) throw new Error('no record batch of row offsets');
  return rows;
}

/** Offsets of the record-batch messages listed in an IPC file footer (`format/File.fbs`). */
function recordBatchOffsets(v: DataView): number[] {
  const n = v.byteLength;
  if (n < 8 + 4 + 6) throw new Error('Arrow file too short for its footer');
  const footerLen = v.getInt32(n - 10, true);
  const footerStart = n - 10 - footerLen;
  if (footerLen <= 0 || footerStart < 8) throw new Error(`Arrow file footer length ${footerLen} is out of range`);
  const footer = new DataView(v.buffer, v.byteOffset + footerStart, footerLen);
  const root = footer.getUint32(0, true);
  const blocksOff = fieldOffset(footer, root, 3);
  if (!blocksOff) return [];
  const vec = root + blocksOff + footer.getUint32(root + blocksOff, true);
  const count = footer.getUint32(vec, true);
  if (count > footerLen / 24) throw new Error(`Arrow file footer lists ${count} record batches, more than it can hold`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const offset = footer.getBigInt64(vec + 4 + i * 24, true); // Block {offset i64, metaDataLength i32, pad, bodyLength i64}
    if (offset < 8n || offset >= BigInt(footerStart)) throw new Error(`record batch block offset ${offset} is out of range`);
    out.push(Number(offset));
  }
  return out;
}

/** Reads the encapsulated message at `pos`: optional continuation, `i32` size, flatbuffer, body. */
function readEncapsulated(v: DataView, pos: number): { msg: MessageSummary | undefined; end: number } {
  let size = v.getUint32(pos, true);
  pos += 4;
  if (size === CONTINUATION) {
    size = v.getUint32(pos, true);
    pos += 4;
  }
  if (size === 0) return { msg: undefined, end: pos };
  if (size > v.byteLength - pos) throw new Error(`IPC message header of ${size} bytes runs past the end of the file`);
  const msg = readMessage(new DataView(v.buffer, v.byteOffset + pos, size));
  pos += size;
  if (msg.bodyLength > BigInt(v.byteLength - pos)) throw new Error(`IPC message body of ${msg.bodyLength} bytes runs past the end of the file`);
  return { msg, end: pos + Number(msg.bodyLength) };
}

/** True when `bytes` starts and ends with `ARROW1` (the IPC file format rather than a stream). */
function hasFileMagic(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 12) return false;
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    const c = FILE_MAGIC.charCodeAt(i);
    if (bytes[i] !== c || bytes[n - 6 + i] !== c) return false;
  }
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
