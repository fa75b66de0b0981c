/**
 * Zstandard blocks of Avro containers (codec `zstandard`), decompressed with fzstd (pure JS, no native
 * build, no async wasm start-up; Node 20's zlib has no zstd). Decompression is streamed and stopped as
 * soon as the output passes the budget, so a frame claiming or expanding to gigabytes costs nothing.
 */
import { Decompress } from 'fzstd';

/** Thrown when the output would exceed the budget. */
class OverBudget extends Error {}

/** Decompresses every zstd frame in `block`; throws when the output would exceed `maxBytes`. */
export function zstdUncompress(block: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let finished = false;
  const stream = new Decompress((chunk, final) => {
    total += chunk.length;
    if (total > maxBytes) throw new OverBudget(`zstd output exceeds ${maxBytes} bytes`);
    parts.push(chunk);
    if (final) finished = true;
  });
  try {
    stream.push(block, true);
  } catch (e) {
    if (e instanceof OverBudget) throw e;
    throw new Error(`zstd: ${(e as Error).message}`);
  }
  if (!finished && total === 0 && block.length > 0) throw new Error('zstd: no complete frame');
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
