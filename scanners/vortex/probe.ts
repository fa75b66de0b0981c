/**
 * Probes one Vortex file by its footer alone: trailer → postscript → the dtype, layout, statistics and
 * footer segments it points at. No data segment is read, so arrays in encodings this library has never
 * heard of (e.g. `vortex.patched`) do not stop the mapping; their ids are recorded.
 */
import type { Schema } from 'apache-arrow';
import { LakemapError, corruptFile, type FileProbe, type JsonObject, type ProbeFile } from '../../src/scanner.js';
import { toArrowSchema } from './arrow-schema.js';
import { unitsOf } from './chunks.js';
import { readDType, type VortexDType } from './dtype.js';
import { FlatbufferError } from './flatbuffer-reader.js';
import { readFooter } from './footer.js';
import { layoutIdsUsed, readLayout } from './layout.js';
import { readPostscript, type FooterSegment } from './postscript.js';
import { readFieldStats } from './statistics.js';
import { checkLeadingMagic, readTrailer } from './trailer.js';

/** Footer segments larger than this are refused rather than read into memory. */
const MAX_FOOTER_SEGMENT = 64 * 1024 * 1024;

/** Reads the metadata of one Vortex file and maps it to a {@link FileProbe}. */
export async function probeVortexFile(file: ProbeFile): Promise<FileProbe> {
  try {
    return await probe(file);
  } catch (e) {
    if (LakemapError.is(e)) throw e;
    // Anything else is a malformed structure met by a bounded reader (or a bug): never let it escape raw.
    const reason = e instanceof FlatbufferError || e instanceof RangeError ? e.message : `unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`;
    throw corruptFile(file.path, reason, e);
  }
}

async function probe(file: ProbeFile): Promise<FileProbe> {
  const { path, size, tail } = file;
  const tailStart = size - tail.length;
  const trailer = readTrailer(path, size, tail);

  /** Bytes [offset, offset + length) of the file, from the tail when it holds them. */
  const bytesAt = async (offset: number, length: number): Promise<Uint8Array> => {
    if (offset >= tailStart) return tail.subarray(offset - tailStart, offset - tailStart + length);
    return file.read(offset, length);
  };
  const segmentBytes = (s: FooterSegment, name: string): Promise<Uint8Array> => {
    if (s.length > MAX_FOOTER_SEGMENT) {
      throw new LakemapError('UNSUPPORTED', `${path}: the ${name} segment is ${s.length} bytes, more than the ${MAX_FOOTER_SEGMENT} this reader loads`, { path });
    }
    return bytesAt(s.offset, s.length);
  };

  checkLeadingMagic(path, await bytesAt(0, 4));
  const postscript = readPostscript(path, await bytesAt(trailer.postscriptOffset, trailer.postscriptLength), trailer.postscriptOffset);
  if (!postscript.dtype) {
    throw new LakemapError('UNSUPPORTED', `${path}: the file was written without its dtype (exclude_dtype); its schema must come from elsewhere, which lakemap does not support`, { path });
  }
  const dtypeBytes = await segmentBytes(postscript.dtype, 'dtype');
  const dtype = readDType(path, dtypeBytes);
  const schema = cachedSchema(path, dtypeBytes, dtype);
  const footer = readFooter(path, await segmentBytes(postscript.footer, 'footer'), trailer.postscriptOffset);
  const layout = readLayout(path, await segmentBytes(postscript.layout, 'layout'), footer, dtype);

  const warnings: string[] = [];
  const details: JsonObject = {
    version: trailer.version,
    root: dtype.kind,
    encodings: footer.arrayEncodings,
    layouts: layoutIdsUsed(layout),
    segments: footer.segments.length,
  };
  if (postscript.statistics) {
    const stats = readFieldStats(await segmentBytes(postscript.statistics, 'statistics'), dtype);
    if ('fieldStats' in stats) {
      details.fieldStats = stats.fieldStats;
      for (const w of stats.warnings ?? []) warnings.push(`${path}: ${w}`);
    } else warnings.push(`${path}: ${stats.warning}`);
  }
  const units = unitsOf(layout, footer.segments);
  const result: FileProbe = { rows: layout.rows, units, schema, details };
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

/** Equal dtype segments give the same Schema object: the engine caches schemas by identity. */
const schemaCache = new Map<string, Schema>();
const SCHEMA_CACHE_ENTRIES = 64;
const SCHEMA_CACHE_MAX_KEY = 16 * 1024;

function cachedSchema(path: string, dtypeBytes: Uint8Array, dtype: VortexDType): Schema {
  if (dtypeBytes.length > SCHEMA_CACHE_MAX_KEY) return toArrowSchema(path, dtype);
  const key = Buffer.from(dtypeBytes).toString('latin1');
  let schema = schemaCache.get(key);
  if (!schema) {
    schema = toArrowSchema(path, dtype);
    if (schemaCache.size >= SCHEMA_CACHE_ENTRIES) schemaCache.delete(schemaCache.keys().next().value!);
    schemaCache.set(key, schema);
  }
  return schema;
}
