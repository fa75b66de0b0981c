/** Decodes a parquet `PageHeader` (Thrift compact) with the scanner's bounded reader. */
import { CompactType, ThriftReader } from '../../../scanners/parquet/thrift.js';

/** Page types (`parquet.thrift` `PageType`). */
export const PageType = { DATA_PAGE: 0, INDEX_PAGE: 1, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;

/** Value encodings (`parquet.thrift` `Encoding`). */
export const Encoding = {
  PLAIN: 0,
  PLAIN_DICTIONARY: 2,
  RLE: 3,
  BIT_PACKED: 4,
  DELTA_BINARY_PACKED: 5,
  DELTA_LENGTH_BYTE_ARRAY: 6,
  DELTA_BYTE_ARRAY: 7,
  RLE_DICTIONARY: 8,
  BYTE_STREAM_SPLIT: 9,
} as const;

/** Names of the encodings, for messages. */
export const encodingNames: Record<number, string> = Object.fromEntries(Object.entries(Encoding).map(([k, v]) => [v, k]));

/** The fields of a page header the reader uses. */
export interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Values (levels) in a data page, entries in a dictionary page. */
  numValues: number;
  /** Value encoding. */
  encoding: number;
  /** v1: encoding of the definition levels (RLE, or the deprecated BIT_PACKED). */
  defEncoding: number;
  /** v1: encoding of the repetition levels. */
  repEncoding: number;
  /** v2: rows in the page. */
  numRows: number;
  /** v2: bytes of the repetition levels (never compressed). */
  repLength: number;
  /** v2: bytes of the definition levels (never compressed). */
  defLength: number;
  /** v2: whether the values section is compressed. */
  compressed: boolean;
  /** Offset of the page's data (just after the header). */
  dataStart: number;
}

/** Decodes the header starting at `bytes[pos]`; `end` bounds it. */
export function readPageHeader(bytes: Uint8Array, pos: number, end: number): PageHeader {
  const r = new ThriftReader(bytes, pos, end);
  const h: PageHeader = {
    type: -1, uncompressedSize: -1, compressedSize: -1, numValues: -1, encoding: -1, defEncoding: Encoding.RLE, repEncoding: Encoding.RLE,
    numRows: -1, repLength: 0, defLength: 0, compressed: true, dataStart: 0,
  };
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (id === 1 && t === CompactType.I32) h.type = r.i32();
    else if (id === 2 && t === CompactType.I32) h.uncompressedSize = r.i32();
    else if (id === 3 && t === CompactType.I32) h.compressedSize = r.i32();
    else if ((id === 5 || id === 7 || id === 8) && t === CompactType.Struct) subHeader(r, h, id);
    else r.skip(t);
  }
  h.dataStart = r.pos;
  if (h.type < 0 || h.uncompressedSize < 0 || h.compressedSize < 0) throw new Error('page header lacks its type or sizes');
  return h;
}

function subHeader(r: ThriftReader, h: PageHeader, which: number): void {
  let id = 0;
  for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
    id = r.fieldId;
    if (t === CompactType.BoolTrue || t === CompactType.BoolFalse) {
      if (which === 8 && id === 7) h.compressed = t === CompactType.BoolTrue;
      continue;
    }
    if (t !== CompactType.I32) {
      r.skip(t);
      continue;
    }
    const v = r.i32();
    if (id === 1) h.numValues = v;
    else if (which === 5) {
      if (id === 2) h.encoding = v;
      else if (id === 3) h.defEncoding = v;
      else if (id === 4) h.repEncoding = v;
    } else if (which === 7) {
      if (id === 2) h.encoding = v;
    } else if (which === 8) {
      if (id === 3) h.numRows = v;
      else if (id === 4) h.encoding = v;
      else if (id === 5) h.defLength = v;
      else if (id === 6) h.repLength = v;
    }
  }
}
