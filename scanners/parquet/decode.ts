/**
 * The first stage of the parquet probe, without Apache Arrow: finds and decodes a file's footer into
 * plain data. Probe worker threads import only this module (loading Arrow would cost most of a
 * worker's start-up); the engine's thread maps the schema and builds the probe (`index.ts`).
 *
 * @module
 */
import { LakemapError, corruptFile, type FileDecoder, type ProbeFile } from '../../src/scanner.js';
import { locateFooter } from './footer.js';
import { decodeFileMetaData, sameBytes } from './metadata.js';
import type { FooterMetadata } from './types.js';

/** A decoded footer, structured-cloneable. */
export interface DecodedFooter {
  /** `schemaStart` and `schemaEnd` are positions in bytes that are gone: use `schema`. */
  meta: FooterMetadata;
  /** The encoded schema list; the same object for files whose schema bytes repeat the last one's. */
  schema: Uint8Array;
  /** Footer length in bytes. */
  length: number;
}

/**
 * The last schema list decoded: files of a lake mostly share one schema, so comparing bytes in place
 * avoids a copy per file, lets the footer decode skip the list, and a worker's batch carries the
 * bytes once (structured clone keeps one copy of an object met twice).
 */
let lastSchema: Uint8Array | undefined;

/** Decodes the footer at `bytes[start, start + length)` of the file `path`. */
export function decodeFooter(path: string, bytes: Uint8Array, start: number, length: number): DecodedFooter {
  let meta: FooterMetadata;
  try {
    meta = decodeFileMetaData(bytes, start, start + length, lastSchema);
  } catch (e) {
    throw invalidFooter(path, e);
  }
  let schema = lastSchema;
  if (schema === undefined || !sameBytes(schema, bytes, meta.schemaStart, meta.schemaEnd)) {
    schema = bytes.slice(meta.schemaStart, meta.schemaEnd);
    lastSchema = schema;
  }
  return { meta, schema, length };
}

/** A decode or mapping failure as `CORRUPT_FILE` naming the file (a LakemapError is kept as it is). */
export function invalidFooter(path: string, e: unknown): LakemapError {
  if (LakemapError.is(e)) return e;
  return corruptFile(path, `invalid parquet footer: ${(e as Error)?.message ?? String(e)}`, e);
}

/** Decodes a parquet file's footer: from the tail when it holds it (synchronously), else with one more read. */
export function decodeParquet(file: ProbeFile): DecodedFooter | Promise<DecodedFooter> {
  const { offset, length } = locateFooter(file.path, file.size, file.tail);
  const tailStart = file.size - file.tail.length;
  if (offset >= tailStart) return decodeFooter(file.path, file.tail, offset - tailStart, length);
  return file.read(offset, length).then((footer) => decodeFooter(file.path, footer, 0, length));
}

/** The parquet scanner's {@link FileDecoder}, for probe workers. */
export const parquetDecoder: FileDecoder = { decode: decodeParquet };

/** Forgets the last schema list (for benchmarks of cold decodes). */
export function clearDecodedSchema(): void {
  lastSchema = undefined;
}
