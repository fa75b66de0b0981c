/**
 * Snappy block decompression (the raw format, not the framed one) for Avro's `snappy` codec.
 * avsc ships no snappy codec and the format is small: a varint uncompressed length, then literals and
 * back-references. Every length is checked against the input and the declared output size.
 */

/** Decompresses one raw snappy block; throws an Error with the reason on malformed input. */
export function snappyUncompress(input: Uint8Array, maxOutput: number): Uint8Array {
  let pos = 0;
  let outLen = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new Error('snappy: bad uncompressed length');
    const b = input[pos++]!;
    outLen += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (outLen > maxOutput) throw new Error(`snappy: uncompressed length ${outLen} exceeds the ${maxOutput} allowed`);
  const out = new Uint8Array(outLen);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > input.length) throw new Error('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += input[pos++]! * 2 ** (8 * i);
      }
      len += 1;
      if (pos + len > input.length || o + len > outLen) throw new Error('snappy: literal runs past the end');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > input.length) throw new Error('snappy: truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else {
      const n = kind === 2 ? 2 : 4;
      if (pos + n > input.length) throw new Error('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = 0;
      for (let i = 0; i < n; i++) offset += input[pos++]! * 2 ** (8 * i);
    }
    if (offset === 0 || offset > o) throw new Error(`snappy: copy offset ${offset} points before the start`);
    if (o + len > outLen) throw new Error('snappy: copy runs past the declared length');
    // Byte by byte: a copy may overlap the bytes it produces (run-length encoding).
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== outLen) throw new Error(`snappy: produced ${o} bytes, header declared ${outLen}`);
  return out;
}
