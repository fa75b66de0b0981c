/**
 * JSON parsing that keeps int64 values exact. Iceberg snapshot ids exceed 2^53, and a plain `JSON.parse`
 * silently rounds them (9158179788527662767 becomes 9158179788527662000). Integer literals outside the
 * safe range are turned into bigint; every other value parses as `JSON.parse` would.
 */

const BIG_MARK = '\u0000int64:';

/**
 * Parses JSON text; integers beyond `Number.MAX_SAFE_INTEGER` come back as bigint.
 * Throws a SyntaxError for invalid JSON (callers wrap it with the file name).
 */
export function parseLosslessJson(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string literal, honouring escapes.
      i++;
      while (i < n && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n && /[0-9eE.+-]/.test(text[i]!)) i++;
      const literal = text.slice(start, i);
      // 16+ digit integers may be unsafe; quote them for the reviver below.
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += text.slice(last, start) + `"\\u0000int64:${literal}"`; // JSON.parse turns \u0000 into BIG_MARK's NUL
        last = i;
      }
      continue;
    }
    i++;
  }
  const rewritten = last === 0 ? text : out + text.slice(last);
  return JSON.parse(rewritten, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(BIG_MARK) ? BigInt(value.slice(BIG_MARK.length)) : value,
  );
}
