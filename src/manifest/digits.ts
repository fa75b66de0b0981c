// Text of numbers as character codes, for hashes that must equal hashing the printed text (segment ids,
// file digests) without building the string (issue #10: one string fewer per file and per segment).

/**
 * Writes the character codes of `String(n)` into `into` from `at`, last digit first, and returns where
 * they end; -1 when `n` is not a safe non-negative integer (the caller prints it then). `into` must
 * have 16 free bytes from `at` (a safe integer has at most 16 digits).
 */
export function printDigits(n: number, into: Uint8Array, at: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) return -1;
  let k = at;
  do {
    const q = Math.floor(n / 10);
    into[k++] = 48 + (n - q * 10); // parenthesized: 48 + n can pass 2^53
    n = q;
  } while (n > 0);
  return k;
}

/** The character code of a hex digit 0–15 (lower case). */
export function nibble(n: number): number {
  return n < 10 ? 48 + n : 87 + n;
}
