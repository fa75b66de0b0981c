/**
 * Decodes the portable serialization of roaring bitmaps (32-bit, and the 64-bit form Iceberg's
 * deletion vectors use) into sorted positions. Every count and offset is checked against the bytes.
 */

const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE = 12347;

/** Appends the values of a 32-bit portable roaring bitmap at `bytes[pos…end)` (plus `high`) to `out`; returns the end position. */
export function readRoaring32(bytes: Uint8Array, pos: number, end: number, high: number, out: number[], limit: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const need = (n: number): void => {
    if (pos + n > end) throw new Error('roaring bitmap runs past its blob');
  };
  need(4);
  const cookie = view.getUint32(pos, true);
  pos += 4;
  let size: number;
  let runs: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    need((size + 7) >> 3);
    runs = bytes.subarray(pos, pos + ((size + 7) >> 3));
    pos += (size + 7) >> 3;
  } else if (cookie === SERIAL_COOKIE_NO_RUN) {
    need(4);
    size = view.getUint32(pos, true);
    pos += 4;
  } else throw new Error(`not a roaring bitmap (cookie ${cookie})`);
  if (size > 65536) throw new Error(`roaring bitmap of ${size} containers`);
  need(size * 4);
  const keys: number[] = [];
  const cards: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(view.getUint16(pos, true));
    cards.push(view.getUint16(pos + 2, true) + 1);
    pos += 4;
  }
  if (!runs || size >= 4) {
    need(size * 4);
    pos += size * 4; // container offsets: containers follow in order anyway
  }
  for (let i = 0; i < size; i++) {
    const base = high * 4294967296 + keys[i]! * 65536;
    const isRun = runs !== undefined && ((runs[i >> 3]! >> (i & 7)) & 1) === 1;
    if (isRun) {
      need(2);
      const n = view.getUint16(pos, true);
      pos += 2;
      need(n * 4);
      for (let r = 0; r < n; r++) {
        const start = view.getUint16(pos, true);
        const len = view.getUint16(pos + 2, true);
        pos += 4;
        if (out.length + len + 1 > limit) throw new Error('deletion vector holds more positions than the data file has rows');
        for (let k = 0; k <= len; k++) out.push(base + start + k);
      }
    } else if (cards[i]! > 4096) {
      need(8192);
      for (let w = 0; w < 8192; w++) {
        const b = bytes[pos + w]!;
        if (b === 0) continue;
        for (let k = 0; k < 8; k++) if ((b >> k) & 1) out.push(base + w * 8 + k);
      }
      pos += 8192;
      if (out.length > limit) throw new Error('deletion vector holds more positions than the data file has rows');
    } else {
      need(cards[i]! * 2);
      if (out.length + cards[i]! > limit) throw new Error('deletion vector holds more positions than the data file has rows');
      for (let k = 0; k < cards[i]!; k++) out.push(base + view.getUint16(pos + k * 2, true));
      pos += cards[i]! * 2;
    }
  }
  return pos;
}

/**
 * Positions of an Iceberg `deletion-vector-v1` blob: length (u32 BE), magic `D1 D3 39 64`, a 64-bit
 * portable roaring bitmap (bucket count u64 LE, then per bucket a u32 LE key and a 32-bit bitmap), CRC.
 */
export function deletionVectorPositions(blob: Uint8Array, maxRows: number): number[] {
  if (blob.length < 12) throw new Error('deletion vector blob is too short');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const len = view.getUint32(0, false);
  if (len + 8 !== blob.length) throw new Error(`deletion vector says ${len} bytes, its blob holds ${blob.length - 8}`);
  if (blob[4] !== 0xd1 || blob[5] !== 0xd3 || blob[6] !== 0x39 || blob[7] !== 0x64) throw new Error('deletion vector lacks its magic bytes');
  const end = 4 + len;
  let pos = 8;
  const buckets = Number(view.getBigUint64(pos, true));
  pos += 8;
  if (buckets > (end - pos) / 8) throw new Error(`deletion vector claims ${buckets} buckets`);
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    if (pos + 4 > end) throw new Error('deletion vector bucket runs past its blob');
    const high = view.getUint32(pos, true);
    pos = readRoaring32(blob, pos + 4, end, high, out, maxRows);
  }
  return out;
}
