/**
 * The RLE / bit-packed hybrid encoding of parquet levels, dictionary indices and booleans.
 * Every run is checked against the bytes left and the values wanted: a bad run is an error, never a
 * read past the page or a write past the output.
 */

/** Reads an unsigned LEB128 varint at `state.pos`. */
function varint(bytes: Uint8Array, state: { pos: number }, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (state.pos >= end) throw new Error('RLE run header runs past the end of its data');
    const b = bytes[state.pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  throw new Error('RLE run header longer than 5 bytes');
}

/**
 * Decodes `count` values of `bitWidth` bits from `bytes[pos, end)` into `out[outPos …]`, refusing
 * any value above `maxValue`. Returns how many values equal `maxValue` — counted on the runs, so
 * checking levels and counting present values costs nothing extra for run-length-encoded levels.
 */
export function decodeHybrid(
  bytes: Uint8Array,
  pos: number,
  end: number,
  bitWidth: number,
  count: number,
  out: Uint8Array | Int32Array,
  outPos: number,
  maxValue: number = out instanceof Uint8Array ? 0xff : 0x7fffffff,
): number {
  if (bitWidth < 0 || bitWidth > 32) throw new Error(`bit width ${bitWidth} is out of range`);
  if (outPos + count > out.length) throw new Error('more values than the page holds room for');
  if (bitWidth === 0) {
    out.fill(0, outPos, outPos + count);
    return maxValue === 0 ? count : 0;
  }
  let atMax = 0;
  const state = { pos };
  const valueBytes = (bitWidth + 7) >> 3;
  let done = 0;
  while (done < count) {
    const header = varint(bytes, state, end);
    if ((header & 1) === 0) {
      // RLE run: `header >> 1` copies of one value stored in `valueBytes` little-endian bytes
      const run = header >>> 1;
      if (run === 0) throw new Error('RLE run of length 0');
      if (state.pos + valueBytes > end) throw new Error('RLE run value runs past the end of its data');
      let v = 0;
      for (let b = 0; b < valueBytes; b++) v += bytes[state.pos + b]! * 2 ** (8 * b);
      state.pos += valueBytes;
      if (v > maxValue) throw new Error(`RLE value ${v} is out of range`);
      const n = Math.min(run, count - done);
      out.fill(v, outPos + done, outPos + done + n);
      if (v === maxValue) atMax += n;
      done += n;
    } else {
      // bit-packed run: `header >> 1` groups of 8 values, LSB first
      const groups = header >>> 1;
      const nbytes = groups * bitWidth;
      if (state.pos + nbytes > end) {
        throw new Error(`bit-packed run of ${groups * 8} values needs ${nbytes} bytes, ${end - state.pos} are left`);
      }
      const n = Math.min(groups * 8, count - done);
      atMax += unpack(bytes, state.pos, bitWidth, n, out, outPos + done, maxValue);
      state.pos += nbytes;
      done += n;
    }
  }
  return atMax;
}

/** Unpacks `n` values; returns how many equal `maxValue`. */
function unpack(bytes: Uint8Array, pos: number, bitWidth: number, n: number, out: Uint8Array | Int32Array, outPos: number, maxValue: number): number {
  let atMax = 0;
  if (bitWidth === 1) {
    // a byte at a time: list levels (a 0 then many 1s) are mostly whole bytes of ones
    let i = 0;
    let ones = 0;
    for (; i + 8 <= n; i += 8) {
      const b = bytes[pos + (i >> 3)]!;
      const o = outPos + i;
      if (b === 0xff) {
        out[o] = 1; out[o + 1] = 1; out[o + 2] = 1; out[o + 3] = 1; out[o + 4] = 1; out[o + 5] = 1; out[o + 6] = 1; out[o + 7] = 1;
        ones += 8;
      } else {
        for (let k = 0; k < 8; k++) {
          const v = (b >> k) & 1;
          out[o + k] = v;
          ones += v;
        }
      }
    }
    for (; i < n; i++) {
      const v = (bytes[pos + (i >> 3)]! >> (i & 7)) & 1;
      out[outPos + i] = v;
      ones += v;
    }
    if (ones > 0 && maxValue < 1) throw new Error('bit-packed value 1 is out of range');
    return maxValue === 1 ? ones : maxValue === 0 ? n - ones : 0;
  }
  if (bitWidth <= 24) {
    // pending bits stay below 32: plain integer bit operations
    const m = (1 << bitWidth) - 1;
    let buf = 0;
    let nb = 0;
    let q = pos;
    for (let i = 0; i < n; i++) {
      while (nb < bitWidth) {
        buf |= bytes[q++]! << nb;
        nb += 8;
      }
      const v = buf & m;
      buf >>>= bitWidth;
      nb -= bitWidth;
      if (v > maxValue) throw new Error(`bit-packed value ${v} is out of range`);
      if (v === maxValue) atMax++;
      out[outPos + i] = v;
    }
    return atMax;
  }
  const mask = bitWidth === 32 ? 0xffffffff : (1 << bitWidth) - 1;
  let buffer = 0;
  let bits = 0;
  let p = pos;
  for (let i = 0; i < n; i++) {
    while (bits < bitWidth) {
      // at most 32 + 7 bits are pending: kept in a float-safe range with multiplication
      buffer += bytes[p++]! * 2 ** bits;
      bits += 8;
    }
    const v = buffer % (mask + 1);
    buffer = Math.floor(buffer / (mask + 1));
    bits -= bitWidth;
    if (v > maxValue) throw new Error(`bit-packed value ${v} is out of range`);
    if (v === maxValue) atMax++;
    out[outPos + i] = v;
  }
  return atMax;
}

/** Bits needed to store values up to `max` (the width of levels whose maximum is `max`). */
export function bitWidthOf(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max);
}

/**
 * Repetition levels of a one-level list (values 0 and 1, bit width 1) read on their encoded runs:
 * appends to `starts` the level index (`base` + position) of every 0 — each starts a row — and
 * returns the new row count. Nothing is written per level: a bit-packed byte of ones (eight
 * continued lists) costs one comparison.
 */
export function decodeRowStarts(bytes: Uint8Array, pos: number, end: number, count: number, base: number, starts: Int32Array, rows: number, maxRows: number): number {
  const state = { pos };
  let done = 0;
  while (done < count) {
    const header = varint(bytes, state, end);
    if ((header & 1) === 0) {
      const run = header >>> 1;
      if (run === 0) throw new Error('RLE run of length 0');
      if (state.pos >= end) throw new Error('RLE run value runs past the end of its data');
      const v = bytes[state.pos++]!;
      if (v > 1) throw new Error(`RLE value ${v} is out of range`);
      const n = Math.min(run, count - done);
      if (v === 0) {
        if (rows + n > maxRows) throw new Error(`the levels start more rows than the row group's ${maxRows}`);
        for (let k = 0; k < n; k++) starts[rows++] = base + done + k;
      }
      done += n;
    } else {
      const groups = header >>> 1;
      if (state.pos + groups > end) throw new Error(`bit-packed run of ${groups * 8} values needs ${groups} bytes, ${end - state.pos} are left`);
      const n = Math.min(groups * 8, count - done);
      const whole = n >> 3;
      const p = state.pos;
      const at = base + done;
      for (let j = 0; j < whole; j++) {
        const b = bytes[p + j]!;
        if (b === 0xff) continue; // eight continued lists
        rows = rowStartsOfByte(~b & 0xff, at + j * 8, starts, rows, maxRows);
      }
      // the values past `count` in the last group are not levels
      if (n & 7) rows = rowStartsOfByte(~bytes[p + whole]! & ((1 << (n & 7)) - 1), at + whole * 8, starts, rows, maxRows);
      state.pos += groups;
      done += n;
    }
  }
  return rows;
}

/** Appends a row start for each set bit of `zeros` (the 0 levels of one bit-packed byte at level `at`). */
function rowStartsOfByte(zeros: number, at: number, starts: Int32Array, rows: number, maxRows: number): number {
  while (zeros !== 0) {
    if (rows === maxRows) throw new Error(`the levels start more rows than the row group's ${maxRows}`);
    starts[rows++] = at + (31 - Math.clz32(zeros & -zeros));
    zeros &= zeros - 1;
  }
  return rows;
}

/**
 * How many of `count` levels are at `maxValue`, read from RLE runs alone; -1 as soon as a
 * bit-packed run or a run below the maximum shows the levels must be decoded one by one.
 */
export function countRunsAtMax(bytes: Uint8Array, pos: number, end: number, bitWidth: number, count: number, maxValue: number): number {
  if (bitWidth === 0) return maxValue === 0 ? count : -1;
  const state = { pos };
  const valueBytes = (bitWidth + 7) >> 3;
  let done = 0;
  while (done < count) {
    const header = varint(bytes, state, end);
    if ((header & 1) !== 0 || header === 0) return -1;
    if (state.pos + valueBytes > end) return -1;
    let v = 0;
    for (let b = 0; b < valueBytes; b++) v += bytes[state.pos + b]! * 2 ** (8 * b);
    state.pos += valueBytes;
    if (v !== maxValue) return -1;
    done += Math.min(header >>> 1, count - done);
  }
  return count;
}
