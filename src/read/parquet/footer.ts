/**
 * The parts of a parquet footer a value reader needs: the schema (mapped to Arrow exactly as the
 * scanner maps it) and, per row group, each column chunk's codec, value count and byte range.
 * Decoded with the scanner's bounded Thrift reader; every range is checked against the file size.
 */
import type { Schema } from 'apache-arrow';
import { LakemapError, corruptFile } from '../../errors.js';
import { locateFooter } from '../../../scanners/parquet/footer.js';
import { decodeFileMetaData, decodeSchemaElements } from '../../../scanners/parquet/metadata.js';
import { mapParquetSchema } from '../../../scanners/parquet/schema.js';
import { CompactType, ThriftReader } from '../../../scanners/parquet/thrift.js';
import type { SchemaElement } from '../../../scanners/parquet/types.js';
import type { ByteSource } from '../source-file.js';

/** One column chunk of one row group. */
export interface ChunkMeta {
  /** Physical type id. */
  type: number;
  /** Path of the leaf in the schema. */
  path: string[];
  /** Codec id. */
  codec: number;
  /** Values (levels) in the chunk, nulls and list entries included. */
  numValues: number;
  /** First byte of the chunk (its dictionary page when there is one). */
  start: number;
  /** Compressed bytes of the chunk. */
  length: number;
  /** Uncompressed bytes of all its pages (a bound for buffers). */
  uncompressed: number;
}

/** A row group: its rows and its column chunks in leaf order. */
export interface RowGroupMeta {
  /** Rows. */
  numRows: number;
  /** Column chunks, one per leaf. */
  columns: ChunkMeta[];
}

/** A decoded footer. */
export interface ParquetFooter {
  /** Flattened schema elements, root first. */
  elements: SchemaElement[];
  /** The Arrow schema the scanner derives from the parquet schema. */
  schema: Schema;
  /** Row groups in file order. */
  rowGroups: RowGroupMeta[];
}

/** Reads and decodes the footer of `file`. */
export function readFooter(file: ByteSource): ParquetFooter {
  const tail = file.read(Math.max(0, file.size - 8), Math.min(8, file.size), 'the footer trailer');
  const loc = locateFooter(file.rel, file.size, tail);
  const bytes = file.read(loc.offset, loc.length, 'the footer');
  try {
    const meta = decodeFileMetaData(bytes, 0, bytes.length);
    if (meta.encrypted) throw new LakemapError('UNSUPPORTED', `${file.rel}: encrypted columns cannot be read`, { path: file.rel });
    const elements = decodeSchemaElements(bytes, meta.schemaStart, meta.schemaEnd);
    const { schema, leafCount } = mapParquetSchema(elements);
    const rowGroups = decodeRowGroups(bytes, file.size, leafCount);
    return { elements, schema, rowGroups };
  } catch (e) {
    if (e instanceof LakemapError) throw e;
    throw corruptFile(file.rel, `footer: ${(e as Error).message}`, e);
  }
}

function decodeRowGroups(bytes: Uint8Array, fileSize: number, leafCount: number): RowGroupMeta[] {
  const r = new ThriftReader(bytes, 0, bytes.length);
  let out: RowGroupMeta[] = [];
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 4 && t === CompactType.List) {
      const n = r.listSize();
      out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = rowGroup(r, i, fileSize, leafCount);
    } else r.skip(t);
  }
  return out;
}

function rowGroup(r: ThriftReader, index: number, fileSize: number, leafCount: number): RowGroupMeta {
  const rg: RowGroupMeta = { numRows: -1, columns: [] };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.List) {
      const n = r.listSize();
      for (let c = 0; c < n; c++) rg.columns.push(columnChunk(r, index, c, fileSize));
    } else if (id === 3 && t === CompactType.I64) rg.numRows = r.i64();
    else r.skip(t);
  }
  if (rg.numRows < 0) throw new Error(`row group ${index} has no or a negative num_rows`);
  if (rg.columns.length !== leafCount) throw new Error(`row group ${index} has ${rg.columns.length} column chunks for ${leafCount} leaf columns`);
  return rg;
}

function columnChunk(r: ThriftReader, rg: number, c: number, fileSize: number): ChunkMeta {
  let chunk: ChunkMeta | undefined;
  let external = false;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.Binary) {
      external = true; // file_path: the chunk lives in another file
      r.skip(t);
    } else if (id === 3 && t === CompactType.Struct) chunk = columnMeta(r);
    else r.skip(t);
  }
  const where = `column chunk ${c} of row group ${rg}`;
  if (external) throw new LakemapError('UNSUPPORTED', `${where} lives in another file (ColumnChunk.file_path)`);
  if (!chunk) throw new Error(`${where} has no meta_data`);
  if (chunk.start < 4 || chunk.length < 0 || chunk.start + chunk.length > fileSize) {
    throw new Error(`${where} claims bytes [${chunk.start}, ${chunk.start + chunk.length}) of a ${fileSize}-byte file`);
  }
  if (chunk.numValues < 0 || chunk.uncompressed < 0) throw new Error(`${where} has a negative size or value count`);
  return chunk;
}

function columnMeta(r: ThriftReader): ChunkMeta {
  const m: ChunkMeta = { type: -1, path: [], codec: 0, numValues: -1, start: -1, length: -1, uncompressed: 0 };
  let dataPage = -1;
  let dictPage = 0;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.I32) m.type = r.i32();
    else if (id === 3 && t === CompactType.List) {
      const n = r.listSize();
      for (let i = 0; i < n; i++) m.path.push(r.string());
    } else if (id === 4 && t === CompactType.I32) m.codec = r.i32();
    else if (id === 5 && t === CompactType.I64) m.numValues = r.i64();
    else if (id === 6 && t === CompactType.I64) m.uncompressed = r.i64();
    else if (id === 7 && t === CompactType.I64) m.length = r.i64();
    else if (id === 9 && t === CompactType.I64) dataPage = r.i64();
    else if (id === 11 && t === CompactType.I64) dictPage = r.i64();
    else r.skip(t);
  }
  // dictionary_page_offset 0 means "absent" for some writers
  m.start = dictPage > 0 && dictPage < dataPage ? dictPage : dataPage;
  return m;
}
