/**
 * Decodes parquet's `FileMetaData` (the footer) into only what a manifest needs.
 *
 * Field ids follow `parquet.thrift` of apache/parquet-format. Statistics, encodings, page-index
 * offsets, bloom filters and column orders are skipped without being decoded. The schema list is
 * not decoded here either: its byte range is kept so the caller can look up an already built
 * schema by those bytes and decode elements ({@link decodeSchemaElements}) only on a miss.
 */
import { CompactType, ThriftError, ThriftReader } from './thrift.js';
import type { SchemaElementSource } from './schema.js';
import type { FooterMetadata, LogicalType, RowGroupInfo, SchemaElement, TimeUnit } from './types.js';

/**
 * Decodes a footer: `bytes[start, end)` holds the Thrift-compact `FileMetaData` struct.
 *
 * `knownSchema`: the encoded schema list of an earlier footer. When the bytes where this footer's
 * schema list starts repeat it exactly, the list is not walked again: decoding is a function of the
 * bytes alone, so the same bytes end at the same place and pass the same checks.
 */
export function decodeFileMetaData(bytes: Uint8Array, start: number, end: number, knownSchema?: Uint8Array): FooterMetadata {
  const r = new ThriftReader(bytes, start, end);
  const meta: FooterMetadata = {
    version: 0,
    numRows: NaN, // NaN until read: tells "absent" from a negative value
    schemaStart: -1,
    schemaEnd: -1,
    rowGroups: [],
    createdBy: undefined,
    arrowSchema: undefined,
    encrypted: false,
  };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    switch (id) {
      case 1:
        expect(t, CompactType.I32, 'FileMetaData.version');
        meta.version = r.i32();
        break;
      case 2:
        expect(t, CompactType.List, 'FileMetaData.schema');
        meta.schemaStart = r.pos;
        if (knownSchema !== undefined && knownSchema.length > 0 && r.pos + knownSchema.length <= end && sameBytes(knownSchema, bytes, r.pos, r.pos + knownSchema.length)) {
          r.pos += knownSchema.length;
        } else {
          schemaElementSource(bytes, r.pos, end); // checks the claimed count against the bytes before walking it
          r.skip(t);
        }
        meta.schemaEnd = r.pos;
        break;
      case 3:
        expect(t, CompactType.I64, 'FileMetaData.num_rows');
        meta.numRows = r.i64();
        break;
      case 4:
        expect(t, CompactType.List, 'FileMetaData.row_groups');
        meta.rowGroups = readRowGroups(r);
        break;
      case 5:
        expect(t, CompactType.List, 'FileMetaData.key_value_metadata');
        meta.arrowSchema = readArrowSchemaValue(r);
        break;
      case 6:
        expect(t, CompactType.Binary, 'FileMetaData.created_by');
        meta.createdBy = internCreatedBy(r);
        break;
      case 8: // encryption_algorithm: the footer is plaintext but columns are encrypted
        meta.encrypted = true;
        r.skip(t);
        break;
      default:
        r.skip(t);
    }
  }
  if (meta.schemaStart < 0) throw new ThriftError('FileMetaData has no schema');
  if (Number.isNaN(meta.numRows)) throw new ThriftError('FileMetaData has no num_rows');
  if (meta.numRows < 0) throw new ThriftError(`negative num_rows ${meta.numRows}`);
  return meta;
}

/** The row groups: rows, sizes and the byte range their column chunks span. */
function readRowGroups(r: ThriftReader): RowGroupInfo[] {
  const n = r.listSize();
  if (r.elemType !== CompactType.Struct) throw new ThriftError('FileMetaData.row_groups is not a list of structs');
  const out: RowGroupInfo[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readRowGroup(r, i);
  return out;
}

function readRowGroup(r: ThriftReader, index: number): RowGroupInfo {
  const rg: RowGroupInfo = { numRows: NaN, totalByteSize: 0, totalCompressedSize: -1, numColumns: 0, columnsCompressedSize: 0, startOffset: -1 };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.List) readColumnChunks(r, rg, index);
    else if (id === 2 && t === CompactType.I64) rg.totalByteSize = r.i64();
    else if (id === 3 && t === CompactType.I64) rg.numRows = r.i64();
    else if (id === 6 && t === CompactType.I64) rg.totalCompressedSize = r.i64();
    else r.skip(t);
  }
  if (Number.isNaN(rg.numRows)) throw new ThriftError(`row group ${index} has no num_rows`);
  if (rg.numRows < 0) throw new ThriftError(`row group ${index} has negative num_rows ${rg.numRows}`);
  if (rg.totalByteSize < 0) throw new ThriftError(`row group ${index} has negative total_byte_size`);
  return rg;
}

/** Fewest bytes a `ColumnChunk` takes: `file_offset` (field header, one-byte value) and the stop byte. */
const MIN_COLUMN_CHUNK_BYTES = 3;

/** Folds each column chunk's compressed size and first page offset into its row group. */
function readColumnChunks(r: ThriftReader, rg: RowGroupInfo, index: number): void {
  const n = r.listSize();
  if (r.elemType !== CompactType.Struct) throw new ThriftError('RowGroup.columns is not a list of structs');
  // A ColumnChunk holds at least its required file_offset (header, value) and a stop byte.
  const room = r.end - r.pos;
  if (n * MIN_COLUMN_CHUNK_BYTES > room) {
    throw new ThriftError(`row group ${index} claims ${n} column chunks, but the ${room} bytes left hold at most ${Math.floor(room / MIN_COLUMN_CHUNK_BYTES)} (${MIN_COLUMN_CHUNK_BYTES} bytes each at least)`);
  }
  rg.numColumns = n;
  for (let c = 0; c < n; c++) {
    let id = 0;
    for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
      id = r.fieldId;
      if (id === 3 && t === CompactType.Struct) readColumnMetaData(r, rg, index, c);
      else if (t === CompactType.I64) r.skipInt(); // file_offset, index offsets
      else r.skip(t);
    }
  }
}

function readColumnMetaData(r: ThriftReader, rg: RowGroupInfo, index: number, column: number): void {
  let compressed = -1;
  let dataPage = -1;
  let dictPage = 0;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 7 && t === CompactType.I64) compressed = r.i64();
    else if (id === 9 && t === CompactType.I64) dataPage = r.i64();
    else if (id === 11 && t === CompactType.I64) dictPage = r.i64();
    else if (t === CompactType.I32 || t === CompactType.I64) r.skipInt(); // type, codec, num_values…: most fields
    else r.skip(t);
  }
  if (compressed < 0 || dataPage < 0) {
    throw new ThriftError(`column ${column} of row group ${index} has ${compressed < 0 ? 'no or a negative total_compressed_size' : 'no or a negative data_page_offset'}`);
  }
  // dictionary_page_offset 0 means "absent" for some writers (dict-page-offset-zero.parquet)
  const first = dictPage > 0 && dictPage < dataPage ? dictPage : dataPage;
  rg.columnsCompressedSize += compressed;
  if (rg.startOffset < 0 || first < rg.startOffset) rg.startOffset = first;
}

/** Returns the value of the `ARROW:schema` key, skipping every other key/value pair. */
function readArrowSchemaValue(r: ThriftReader): string | undefined {
  const n = r.listSize();
  if (r.elemType !== CompactType.Struct) throw new ThriftError('key_value_metadata is not a list of structs');
  let found: string | undefined;
  for (let i = 0; i < n; i++) {
    let isArrow = false;
    let valueStart = -1;
    let valueEnd = -1;
    let id = 0;
    for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
      id = r.fieldId;
      if (id === 1 && t === CompactType.Binary) {
        const start = r.binaryStart();
        isArrow = isArrowSchemaKey(r.bytes, start, r.pos);
      } else if (id === 2 && t === CompactType.Binary) {
        valueStart = r.binaryStart();
        valueEnd = r.pos;
      } else r.skip(t);
    }
    if (isArrow && valueStart >= 0) found = latin1(r.bytes, valueStart, valueEnd);
  }
  return found;
}

/** The last `created_by` seen, bytes and text: a lake's files mostly share one writer, so most footers reuse the string. */
let lastCreatedBy: { bytes: Uint8Array; text: string } | undefined;

function internCreatedBy(r: ThriftReader): string {
  const start = r.binaryStart();
  const end = r.pos;
  const last = lastCreatedBy;
  if (last && sameBytes(last.bytes, r.bytes, start, end)) return last.text;
  const bytes = r.bytes.slice(start, end);
  const text = utf8.decode(bytes);
  lastCreatedBy = { bytes, text };
  return text;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** True when `a` equals `b[start, end)`. */
export function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

const ARROW_SCHEMA_KEY = 'ARROW:schema';

function isArrowSchemaKey(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== ARROW_SCHEMA_KEY.length) return false;
  for (let i = 0; i < ARROW_SCHEMA_KEY.length; i++) if (bytes[start + i] !== ARROW_SCHEMA_KEY.charCodeAt(i)) return false;
  return true;
}

/** Bytes as a latin1 string: one char per byte, cheap, and exact for base64 text and cache keys. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * Fewest bytes a `SchemaElement` takes: its required `name` (field header, length) and the stop byte.
 * A list claiming more elements than its bytes can hold is corrupt, whatever it says.
 */
const MIN_SCHEMA_ELEMENT_BYTES = 3;

/** Decodes the schema list whose header starts at `start` (from {@link FooterMetadata.schemaStart}). */
export function decodeSchemaElements(bytes: Uint8Array, start: number, end: number): SchemaElement[] {
  const src = schemaElementSource(bytes, start, end);
  const out: SchemaElement[] = new Array(src.count);
  for (let i = 0; i < src.count; i++) out[i] = src.next();
  return out;
}

/**
 * The schema list whose header starts at `start`, decoded one element per `next()`: the caller keeps
 * only what it needs. The element count is checked against the bytes before anything is decoded.
 */
export function schemaElementSource(bytes: Uint8Array, start: number, end: number): SchemaElementSource {
  const r = new ThriftReader(bytes, start, end);
  const count = r.listSize();
  if (r.elemType !== CompactType.Struct) throw new ThriftError('FileMetaData.schema is not a list of structs');
  const room = end - r.pos;
  if (count * MIN_SCHEMA_ELEMENT_BYTES > room) {
    throw new ThriftError(`the schema claims ${count} elements, but its ${room} bytes hold at most ${Math.floor(room / MIN_SCHEMA_ELEMENT_BYTES)} (${MIN_SCHEMA_ELEMENT_BYTES} bytes each at least)`);
  }
  let read = 0;
  return {
    count,
    next: () => {
      if (read++ >= count) throw new ThriftError('read past the end of the schema list');
      return readSchemaElement(r);
    },
  };
}

function readSchemaElement(r: ThriftReader): SchemaElement {
  const el: SchemaElement = { name: '' };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (t === CompactType.I32) {
      const v = r.i32();
      if (id === 1) el.type = v;
      else if (id === 2) el.typeLength = v;
      else if (id === 3) el.repetition = v;
      else if (id === 5) el.numChildren = v;
      else if (id === 6) el.convertedType = v;
      else if (id === 7) el.scale = v;
      else if (id === 8) el.precision = v;
      else if (id === 9) el.fieldId = v;
    } else if (id === 4 && t === CompactType.Binary) el.name = r.string();
    else if (id === 10 && t === CompactType.Struct) el.logicalType = readLogicalType(r);
    else r.skip(t);
  }
  return el;
}

/** The `LogicalType` union: exactly one field is set; an id this reader does not know is `unknown`. */
function readLogicalType(r: ThriftReader): LogicalType {
  let lt: LogicalType = { kind: 'unknown' };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (t !== CompactType.Struct) {
      r.skip(t);
      continue;
    }
    switch (id) {
      case 1: lt = { kind: 'string' }; r.skipStruct(); break;
      case 2: lt = { kind: 'map' }; r.skipStruct(); break;
      case 3: lt = { kind: 'list' }; r.skipStruct(); break;
      case 4: lt = { kind: 'enum' }; r.skipStruct(); break;
      case 5: lt = readDecimal(r); break;
      case 6: lt = { kind: 'date' }; r.skipStruct(); break;
      case 7: lt = { kind: 'time', ...readTemporal(r) }; break;
      case 8: lt = { kind: 'timestamp', ...readTemporal(r) }; break;
      case 10: lt = readInteger(r); break;
      case 11: lt = { kind: 'null' }; r.skipStruct(); break;
      case 12: lt = { kind: 'json' }; r.skipStruct(); break;
      case 13: lt = { kind: 'bson' }; r.skipStruct(); break;
      case 14: lt = { kind: 'uuid' }; r.skipStruct(); break;
      case 15: lt = { kind: 'float16' }; r.skipStruct(); break;
      case 16: lt = { kind: 'variant' }; r.skipStruct(); break;
      case 17: lt = { kind: 'geometry' }; r.skipStruct(); break;
      case 18: lt = { kind: 'geography' }; r.skipStruct(); break;
      default: lt = { kind: 'unknown' }; r.skipStruct();
    }
  }
  return lt;
}

function readDecimal(r: ThriftReader): LogicalType {
  let scale = 0;
  let precision = 0;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.I32) scale = r.i32();
    else if (id === 2 && t === CompactType.I32) precision = r.i32();
    else r.skip(t);
  }
  return { kind: 'decimal', scale, precision };
}

function readTemporal(r: ThriftReader): { utc: boolean; unit: TimeUnit } {
  let utc = false;
  let unit: TimeUnit = 'millis';
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && (t === CompactType.BoolTrue || t === CompactType.BoolFalse)) utc = t === CompactType.BoolTrue;
    else if (id === 2 && t === CompactType.Struct) unit = readTimeUnit(r);
    else r.skip(t);
  }
  return { utc, unit };
}

function readTimeUnit(r: ThriftReader): TimeUnit {
  let unit: TimeUnit | undefined;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (t === CompactType.Struct && id >= 1 && id <= 3) unit = id === 1 ? 'millis' : id === 2 ? 'micros' : 'nanos';
    r.skip(t);
  }
  if (unit === undefined) throw new ThriftError('TimeUnit names no known unit');
  return unit;
}

function readInteger(r: ThriftReader): LogicalType {
  let bitWidth = 0;
  let signed = true;
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.Byte) bitWidth = r.i8();
    else if (id === 2 && (t === CompactType.BoolTrue || t === CompactType.BoolFalse)) signed = t === CompactType.BoolTrue;
    else r.skip(t);
  }
  if (bitWidth !== 8 && bitWidth !== 16 && bitWidth !== 32 && bitWidth !== 64) throw new ThriftError(`INTEGER logical type with bit width ${bitWidth}`);
  return { kind: 'integer', bitWidth, signed };
}

function expect(actual: number, wanted: number, what: string): void {
  if (actual !== wanted) throw new ThriftError(`${what} has compact type ${actual}, expected ${wanted}`);
}
