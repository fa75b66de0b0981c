/**
 * Cardinality of a 32-bit roaring bitmap in the portable serialization
 * (github.com/RoaringBitmap/RoaringFormatSpec), the layout of Lance's `.bin` deletion files.
 * Every container's cardinality is in the descriptive header, so the count needs no decoding of
 * the containers; their sizes are still walked to check the file holds them all.
 *
 * @module
 */

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
const ARRAY_MAX = 4096;
const BITMAP_BYTES = 8192;

/** Number of set bits in the serialized bitmap `bytes`; throws a plain `Error` for a malformed one. */
export function roaringCardinality(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (pos: number, n: number, what: string): void => {
    if (pos + n > bytes.length) throw new Error(`roaring bitmap truncated in ${what} (needs ${pos + n} bytes, has ${bytes.length})`);
  };
  need(0, 4, 'the cookie');
  const cookie = view.getUint32(0, true);
  let pos = 4;
  let count: number;
  let runFlags: Uint8Array | undefined;
  let hasOffsets: boolean;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    count = (cookie >>> 16) + 1;
    const flagBytes = Math.ceil(count / 8);
    need(pos, flagBytes, 'the run-container flags');
    runFlags = bytes.subarray(pos, pos + flagBytes);
    pos += flagBytes;
    hasOffsets = count >= NO_OFFSET_THRESHOLD;
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    need(pos, 4, 'the container count');
    count = view.getUint32(pos, true);
    pos += 4;
    if (count > 65536) throw new Error(`roaring bitmap claims ${count} containers, more than 65536`);
    hasOffsets = true;
  } else {
    throw new Error(`not a roaring bitmap (cookie ${cookie})`);
  }
  need(pos, count * 4, 'the container headers');
  const headerStart = pos;
  pos += count * 4;
  if (hasOffsets) {
    need(pos, count * 4, 'the container offsets');
    pos += count * 4;
  }
  let total = 0;
  let lastKey = -1;
  for (let i = 0; i < count; i++) {
    const key = view.getUint16(headerStart + i * 4, true);
    const card = view.getUint16(headerStart + i * 4 + 2, true) + 1;
    if (key <= lastKey) throw new Error(`roaring bitmap container keys are not increasing (${key} after ${lastKey})`);
    lastKey = key;
    total += card;
    const isRun = runFlags !== undefined && (runFlags[i >> 3]! & (1 << (i & 7))) !== 0;
    if (isRun) {
      need(pos, 2, `run container ${i}`);
      const runs = view.getUint16(pos, true);
      pos += 2;
      need(pos, runs * 4, `run container ${i}`);
      pos += runs * 4;
    } else {
      const size = card > ARRAY_MAX ? BITMAP_BYTES : card * 2;
      need(pos, size, `container ${i}`);
      pos += size;
    }
  }
  return total;
}
