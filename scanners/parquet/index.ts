/**
 * The parquet scanner: maps one `.parquet` file from its footer alone. Units are row groups.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Schema } from 'apache-arrow';
import { LakemapError, MAX_RECORDED_COLUMNS, corruptFile, type FileProbe, type FileScanner, type JsonObject, type ProbeFile, type UnitInfo } from '../../src/scanner.js';
import { decodeArrowSchema } from './arrow-schema.js';
import { TRAILER_BYTES } from './footer.js';
import { clearDecodedSchema, decodeParquet, invalidFooter, type DecodedFooter } from './decode.js';
import { latin1, sameBytes, schemaElementSource } from './metadata.js';
import { mapParquetSchema, type MappedSchema } from './schema.js';
import { BoundedMemo } from './schema-cache.js';
import type { FooterMetadata } from './types.js';

/** Tail read before `probe`: covers the footers of typical files, so most probes never read again. */
const TAIL_BYTES = 16 * 1024;

/** Mapped parquet schemas by the raw bytes of the schema list. */
const parquetSchemas = new BoundedMemo<MappedSchema>(256);
/**
 * The last schema mapped, with its raw bytes: files of a lake mostly share one schema, and comparing
 * bytes in place avoids building a memo key string per file.
 */
let lastSchema: { bytes: Uint8Array; mapped: MappedSchema } | undefined;
/** Decoded `ARROW:schema` values by their base64 text (`undefined` when they do not decode). */
const arrowSchemas = new BoundedMemo<Schema | undefined>(256);

/**
 * Scanner for `format: 'parquet'`. Reads only the footer (in the tail the engine already read, else
 * one more read), so `probe` returns synchronously for files whose footer fits in {@link FileScanner.tailBytes}.
 *
 * Each row group becomes a unit `{ rows, byteSize, details: { ordinal, fileOffset } }` where
 * `byteSize` is the sum of its column chunks' compressed sizes and `fileOffset` the first page of its
 * first column chunk. The schema is the `ARROW:schema` the writer stored, when there is one, else
 * the parquet schema mapped to Arrow.
 *
 * @example
 * ```ts
 * const engine = new RefreshEngine({ root, scanners: [parquetScanner] });
 * ```
 */
export const parquetScanner: FileScanner = {
  kind: 'file',
  format: 'parquet',
  extensions: ['.parquet'],
  tailBytes: TAIL_BYTES,
  workerModule: { url: import.meta.url, exportName: 'parquetScanner' },
  split: {
    module: { url: new URL('./decode.js', import.meta.url).href, exportName: 'parquetDecoder' },
    finish: (file, decoded) => finishProbe(file.path, file.size, decoded as DecodedFooter),
  },
  probe(file: ProbeFile): FileProbe | Promise<FileProbe> {
    const d = decodeParquet(file);
    if (d instanceof Promise) return d.then((footer) => finishProbe(file.path, file.size, footer));
    return finishProbe(file.path, file.size, d);
  },
};

/** Maps a decoded footer of the file `path` (`size` bytes) to its probe. */
function finishProbe(path: string, size: number, decoded: DecodedFooter): FileProbe {
  const { meta, schema: schemaBytes, length } = decoded;
  let mapped: MappedSchema;
  try {
    const last = lastSchema;
    if (last && (last.bytes === schemaBytes || sameBytes(last.bytes, schemaBytes, 0, schemaBytes.length))) mapped = last.mapped;
    else {
      const key = memoKey(schemaBytes, 0, schemaBytes.length);
      mapped = parquetSchemas.get(key, () => mapParquetSchema(schemaElementSource(schemaBytes, 0, schemaBytes.length), MAX_RECORDED_COLUMNS));
      lastSchema = { bytes: schemaBytes, mapped };
    }
  } catch (e) {
    throw invalidFooter(path, e);
  }
  if (meta.encrypted) {
    throw new LakemapError('UNSUPPORTED', `${path}: encrypted columns (plaintext footer with encryption_algorithm): lakemap does not read encrypted parquet`, { path });
  }
  const warnings: string[] = [];
  let schema: Schema;
  if (mapped.columns > mapped.schema.fields.length) {
    // Cut while mapping: the columns past the cap were counted, never built (nor the ARROW:schema, which would build them all).
    warnings.push(`the schema has ${mapped.columns} top-level columns; only the first ${MAX_RECORDED_COLUMNS} are recorded`);
    schema = mapped.schema;
  } else schema = chooseSchema(meta, mapped, warnings);
  const footerOffset = size - TRAILER_BYTES - length;
  const units: UnitInfo[] = new Array(meta.rowGroups.length);
  let rows = 0;
  for (let i = 0; i < meta.rowGroups.length; i++) {
    const rg = meta.rowGroups[i]!;
    if (rg.numColumns !== mapped.leafCount) {
      throw corruptFile(path, `row group ${i} has ${rg.numColumns} column chunks but the schema has ${mapped.leafCount} leaf columns`);
    }
    if (rg.startOffset >= footerOffset || rg.columnsCompressedSize > footerOffset) {
      warnings.push(`row group ${i}: column chunks claim bytes past the footer (offset ${rg.startOffset}, ${rg.columnsCompressedSize} bytes; footer at ${footerOffset})`);
    }
    rows += rg.numRows;
    units[i] = { rows: rg.numRows, byteSize: rg.columnsCompressedSize, details: { ordinal: i, fileOffset: rg.startOffset } };
  }
  if (!Number.isSafeInteger(rows)) throw corruptFile(path, `row groups add up to ${rows} rows, beyond 2^53`);
  const details: JsonObject = { createdBy: meta.createdBy ?? null, numRowGroups: units.length, footerBytes: length };
  if (meta.numRows !== rows) {
    details.footerNumRows = meta.numRows;
    warnings.push(`footer num_rows is ${meta.numRows} but the row groups hold ${rows} rows; using the row groups`);
  }
  const probe: FileProbe = { rows, units, schema, details };
  if (warnings.length > 0) probe.warnings = warnings;
  return probe;
}

/** The writer's `ARROW:schema` when it decodes and names the same top-level columns, else the mapped one. */
function chooseSchema(meta: FooterMetadata, mapped: MappedSchema, warnings: string[]): Schema {
  if (meta.arrowSchema === undefined) return mapped.schema;
  const base64 = meta.arrowSchema;
  const key = base64.length <= MAX_PLAIN_KEY ? base64 : `sha256:${createHash('sha256').update(base64).digest('hex')}`;
  const arrow = arrowSchemas.get(key, () => decodeArrowSchema(base64));
  if (arrow === undefined) {
    warnings.push(`the ARROW:schema metadata does not decode; mapped the parquet schema instead`);
    return mapped.schema;
  }
  const a = arrow.fields;
  const p = mapped.schema.fields;
  if (a.length !== p.length || a.some((f, i) => f.name !== p[i]!.name)) {
    warnings.push(`the ARROW:schema metadata names other columns than the parquet schema; mapped the parquet schema instead`);
    return mapped.schema;
  }
  return arrow;
}

/** Longer memo keys are replaced by their SHA-256, so 256 wide schemas cannot pin hundreds of MiB. */
const MAX_PLAIN_KEY = 16 * 1024;

/** The memo key of a schema: its raw footer bytes (one char per byte), or their hash when long. */
function memoKey(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= MAX_PLAIN_KEY) return latin1(bytes, start, end);
  return `sha256:${createHash('sha256').update(bytes.subarray(start, end)).digest('hex')}`;
}

/** Drops memoized schemas (for benchmarks of cold decodes). */
export function clearParquetSchemaCache(): void {
  lastSchema = undefined;
  clearDecodedSchema();
  parquetSchemas.clear();
  arrowSchemas.clear();
}
