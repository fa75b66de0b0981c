// Bounds of the footer decoder's shortcuts (issue 15: mutants of scanners/parquet/metadata.ts that the
// rest of the suite let survive): a remembered schema list is taken only when it lies inside the footer,
// and a schema element source never reads past the count it announced.
import { describe, expect, it } from 'vitest';
import { CompactWriter, T, encodeFooter, footerForSchema } from '../fixtures/parquet/synthetic-footer.js';
import { decodeFileMetaData, decodeSchemaElements, schemaElementSource } from '../scanners/parquet/metadata.js';

const footer = encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 7));

describe('the footer decoder stays inside its bytes', () => {
  it('a known schema that matches only by running past the footer end is not taken', () => {
    // The footer followed by other bytes (as in a file: the footer length and PAR1), decoded up to its end.
    const bytes = new Uint8Array([...footer, 0x10, 0x20, 0x30, 0x40, 0x50, 0x41, 0x52, 0x31]);
    const full = decodeFileMetaData(footer, 0, footer.length);
    // The schema list, the rest of the footer and four bytes beyond it: equal bytes, but not inside [start, end).
    const known = bytes.slice(full.schemaStart, footer.length + 4);
    expect(decodeFileMetaData(bytes, 0, footer.length, known)).toEqual(full);
  });

  it('a schema element source refuses to read past the count it announced', () => {
    const meta = decodeFileMetaData(footer, 0, footer.length);
    const src = schemaElementSource(footer, meta.schemaStart, footer.length);
    expect(src.count).toBe(2);
    expect([src.next().name, src.next().name]).toEqual(['schema', 'id']);
    expect(() => src.next()).toThrow(/read past the end of the schema list/);
    expect(decodeSchemaElements(footer, meta.schemaStart, footer.length).map((e) => e.name)).toEqual(['schema', 'id']);
  });

  it('a schema list whose minimal elements fill its bytes exactly is read; an element without a name gets ""', () => {
    // One element, name '' (field 4: header, length 0) and the stop byte: 3 bytes, the least an element takes.
    const exact = new Uint8Array([(1 << 4) | T.STRUCT, (4 << 4) | T.BINARY, 0, 0]);
    const src = schemaElementSource(exact, 0, exact.length);
    expect(src.next()).toEqual({ name: '' });
    // An element of three bytes without the (required) name: type INT32, then stop.
    const nameless = new Uint8Array([(1 << 4) | T.STRUCT, (1 << 4) | T.I32, 2, 0]);
    expect(schemaElementSource(nameless, 0, nameless.length).next()).toEqual({ name: '', type: 1 });
  });
});

/** A footer with a two-column schema, num_rows 5 and the given row groups (each a struct body). */
const withRowGroups = (...groups: ((w: CompactWriter) => void)[]): Uint8Array => {
  const w = new CompactWriter();
  w.struct(() => {
    w.field(2, T.LIST).list(T.STRUCT, 2);
    w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(1));
    w.struct(() => w.field(1, T.I32).i32(2).field(3, T.I32).i32(0).field(4, T.BINARY).binary('id'));
    w.field(3, T.I64).i64(5);
    w.field(4, T.LIST).list(T.STRUCT, groups.length);
    for (const g of groups) w.struct(() => g(w));
  });
  return w.bytes();
};

describe('fields of an unexpected type or id are skipped, not misread', () => {
  it('row group fields: right ones read, wrong-typed and unknown ones leave the defaults', () => {
    const bytes = withRowGroups(
      // right types, then an unknown i64 field
      (w) => w.field(2, T.I64).i64(100).field(3, T.I64).i64(5).field(6, T.I64).i64(80).field(99, T.I64).i64(3),
      // columns as an i32, total_byte_size as a string, num_rows first as a string then right, total_compressed_size as a string
      (w) => w.field(1, T.I32).i32(9).field(2, T.BINARY).binary('xyz').field(3, T.BINARY).binary('q').field(3, T.I64).i64(5).field(6, T.BINARY).binary('ab'),
    );
    const groups = decodeFileMetaData(bytes, 0, bytes.length).rowGroups;
    expect(groups).toEqual([
      { numRows: 5, totalByteSize: 100, totalCompressedSize: 80, numColumns: 0, columnsCompressedSize: 0, startOffset: -1 },
      { numRows: 5, totalByteSize: 0, totalCompressedSize: -1, numColumns: 0, columnsCompressedSize: 0, startOffset: -1 },
    ]);
    // num_rows only as a string: not read as a number, so the row group has none
    const stringRows = withRowGroups((w) => w.field(2, T.I64).i64(100).field(3, T.BINARY).binary('x'));
    expect(() => decodeFileMetaData(stringRows, 0, stringRows.length)).toThrow(/row group 0 has no num_rows/);
  });

  it('schema element fields: unknown i32, string or struct fields, a name or logical type of the wrong type are skipped', () => {
    // name, an unknown i32 (id 11), an unknown string (id 12); then an element whose field 4 is an i64
    const list = new CompactWriter();
    list.list(T.STRUCT, 4);
    list.struct(() => list.field(4, T.BINARY).binary('a').field(11, T.I32).i32(7).field(12, T.BINARY).binary('zz'));
    list.struct(() => list.field(1, T.I32).i32(1).field(4, T.I64).i64(9));
    // a LogicalType union with no member set is 'unknown'
    list.struct(() => list.field(4, T.BINARY).binary('c').field(10, T.STRUCT).struct(() => {}));
    // logicalType (10) as a string, and an unknown struct field (13): both skipped
    list.struct(() => list.field(4, T.BINARY).binary('d').field(10, T.BINARY).binary('b').field(13, T.STRUCT).struct(() => {}));
    const bytes = list.bytes();
    expect(decodeSchemaElements(bytes, 0, bytes.length)).toEqual([{ name: 'a' }, { name: '', type: 1 }, { name: 'c', logicalType: { kind: 'unknown' } }, { name: 'd' }]);
  });
});

describe('LogicalType members and column chunks, field by field', () => {
  it('each LogicalType member id gives its kind; ids the reader does not know are unknown', () => {
    const kinds: [number, string][] = [
      [1, 'string'], [2, 'map'], [3, 'list'], [4, 'enum'], [6, 'date'], [9, 'unknown'], [11, 'null'], [12, 'json'],
      [13, 'bson'], [14, 'uuid'], [15, 'float16'], [16, 'variant'], [17, 'geometry'], [18, 'geography'], [19, 'unknown'],
    ];
    const list = new CompactWriter();
    list.list(T.STRUCT, kinds.length);
    for (const [id] of kinds) list.struct(() => list.field(4, T.BINARY).binary(`m${id}`).field(10, T.STRUCT).struct(() => list.field(id, T.STRUCT).struct(() => {})));
    const bytes = list.bytes();
    expect(decodeSchemaElements(bytes, 0, bytes.length).map((e) => [Number(e.name.slice(1)), e.logicalType?.kind])).toEqual(kinds);
  });

  /** A footer whose one row group has one column chunk with `meta` as its ColumnMetaData body (field 3). */
  const withColumn = (chunk: (w: CompactWriter) => void): Uint8Array =>
    withRowGroups((w) => {
      w.field(1, T.LIST).list(T.STRUCT, 1);
      w.struct(() => chunk(w));
      w.field(3, T.I64).i64(5);
    });
  const decode = (b: Uint8Array) => decodeFileMetaData(b, 0, b.length);

  it('column metadata: read when right; missing or wrong-typed sizes and offsets are refused, a wrong-typed meta_data skipped', () => {
    const ok = withColumn((w) => w.field(2, T.I64).i64(4).field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(30).field(9, T.I64).i64(4)));
    expect(decode(ok).rowGroups[0]).toMatchObject({ numColumns: 1, columnsCompressedSize: 30, startOffset: 4 });
    // no total_compressed_size, or one of the wrong type
    const noSize = withColumn((w) => w.field(3, T.STRUCT).struct(() => w.field(9, T.I64).i64(4)));
    expect(() => decode(noSize)).toThrow(/column 0 of row group 0 has no or a negative total_compressed_size/);
    const stringSize = withColumn((w) => w.field(3, T.STRUCT).struct(() => w.field(7, T.BINARY).binary('ab').field(9, T.I64).i64(4)));
    expect(() => decode(stringSize)).toThrow(/column 0 of row group 0 has no or a negative total_compressed_size/);
    // data_page_offset as a string is no data page offset; dictionary_page_offset as a string is none
    const stringPage = withColumn((w) => w.field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(30).field(9, T.BINARY).binary('ab')));
    expect(() => decode(stringPage)).toThrow(/column 0 of row group 0 has no or a negative data_page_offset/);
    const stringDict = withColumn((w) => w.field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(30).field(9, T.I64).i64(40).field(11, T.BINARY).binary('ab')));
    expect(decode(stringDict).rowGroups[0]).toMatchObject({ columnsCompressedSize: 30, startOffset: 40 });
    // a total_compressed_size of 0 is a size, not a missing one
    const zero = withColumn((w) => w.field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(0).field(9, T.I64).i64(4)));
    expect(decode(zero).rowGroups[0]).toMatchObject({ columnsCompressedSize: 0, startOffset: 4 });
    // meta_data (field 3) that is not a struct is skipped: the column adds nothing
    const notStruct = withColumn((w) => w.field(2, T.I64).i64(4).field(3, T.I64).i64(7));
    expect(decode(notStruct).rowGroups[0]).toMatchObject({ numColumns: 1, columnsCompressedSize: 0, startOffset: -1 });
  });

  it('DECIMAL members: scale and precision read when i32, skipped otherwise, unknown members ignored', () => {
    const list = new CompactWriter();
    list.list(T.STRUCT, 2);
    const decimal = (name: string, body: () => void) => list.struct(() => list.field(4, T.BINARY).binary(name).field(10, T.STRUCT).struct(() => list.field(5, T.STRUCT).struct(body)));
    decimal('right', () => list.field(1, T.I32).i32(2).field(2, T.I32).i32(9));
    decimal('wrong', () => list.field(1, T.BINARY).binary('s').field(2, T.BINARY).binary('p').field(3, T.I32).i32(7));
    const bytes = list.bytes();
    expect(decodeSchemaElements(bytes, 0, bytes.length).map((e) => e.logicalType)).toEqual([
      { kind: 'decimal', scale: 2, precision: 9 },
      { kind: 'decimal', scale: 0, precision: 0 },
    ]);
  });

  it('TIME and TIMESTAMP without their members: not adjusted to UTC, milliseconds', () => {
    const list = new CompactWriter();
    list.list(T.STRUCT, 2);
    for (const [name, id] of [['t', 7], ['ts', 8]] as const) list.struct(() => list.field(4, T.BINARY).binary(name).field(10, T.STRUCT).struct(() => list.field(id, T.STRUCT).struct(() => {})));
    const bytes = list.bytes();
    expect(decodeSchemaElements(bytes, 0, bytes.length).map((e) => e.logicalType)).toEqual([
      { kind: 'time', utc: false, unit: 'millis' },
      { kind: 'timestamp', utc: false, unit: 'millis' },
    ]);
  });

  it('TIME/TIMESTAMP, TimeUnit and INTEGER members of the wrong type or an unknown id are skipped', () => {
    /** Decodes one element whose LogicalType union holds member `id` with `body`; the error message if refused. */
    const logical = (id: number, body: (w: CompactWriter) => void): unknown => {
      const w = new CompactWriter();
      w.list(T.STRUCT, 1);
      w.struct(() => w.field(4, T.BINARY).binary('x').field(10, T.STRUCT).struct(() => w.field(id, T.STRUCT).struct(() => body(w))));
      const bytes = w.bytes();
      try {
        return decodeSchemaElements(bytes, 0, bytes.length)[0]!.logicalType;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const TS = 8, INT = 10;
    // isAdjustedToUTC and unit as i32s, then an unknown bool (3) and an unknown struct (4): all skipped
    expect(logical(TS, (w) => w.field(1, T.I32).i32(1).field(2, T.I32).i32(1).field(3, T.TRUE).field(4, T.STRUCT).struct(() => {}))).toEqual({ kind: 'timestamp', utc: false, unit: 'millis' });
    expect(logical(TS, (w) => w.field(3, T.TRUE))).toEqual({ kind: 'timestamp', utc: false, unit: 'millis' });
    expect(logical(TS, (w) => w.field(1, T.TRUE).field(2, T.STRUCT).struct(() => w.field(3, T.STRUCT).struct(() => {})))).toEqual({ kind: 'timestamp', utc: true, unit: 'nanos' });
    expect(logical(TS, (w) => w.field(1, T.FALSE).field(2, T.STRUCT).struct(() => w.field(2, T.STRUCT).struct(() => {})))).toEqual({ kind: 'timestamp', utc: false, unit: 'micros' });
    // a TimeUnit whose member is not a struct, or an unknown member id, names no unit
    expect(logical(TS, (w) => w.field(2, T.STRUCT).struct(() => w.field(1, T.I32).i32(0)))).toMatch(/TimeUnit names no known unit/);
    expect(logical(TS, (w) => w.field(2, T.STRUCT).struct(() => w.field(4, T.STRUCT).struct(() => {})))).toMatch(/TimeUnit names no known unit/);
    // INTEGER: signed by default; bitWidth as an i32 is no bit width; unknown byte (3) and bool (4) members skipped
    expect(logical(INT, (w) => w.field(1, T.BYTE).byte(16))).toEqual({ kind: 'integer', bitWidth: 16, signed: true });
    expect(logical(INT, (w) => w.field(1, T.BYTE).byte(8).field(2, T.I32).i32(0).field(3, T.BYTE).byte(64).field(4, T.FALSE))).toEqual({ kind: 'integer', bitWidth: 8, signed: true });
    expect(logical(INT, (w) => w.field(1, T.BYTE).byte(32).field(2, T.FALSE))).toEqual({ kind: 'integer', bitWidth: 32, signed: false });
    expect(logical(INT, (w) => w.field(1, T.I32).i32(8))).toMatch(/INTEGER logical type with bit width 0/);
  });

  it('ARROW:schema: taken only from an entry whose binary key is ARROW:schema and whose value is binary', () => {
    const footerWith = (entries: ((w: CompactWriter) => void)[]): Uint8Array => {
      const w = new CompactWriter();
      w.struct(() => {
        w.field(2, T.LIST).list(T.STRUCT, 1);
        w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(0));
        w.field(3, T.I64).i64(0);
        w.field(5, T.LIST).list(T.STRUCT, entries.length);
        for (const e of entries) w.struct(() => e(w));
      });
      return w.bytes();
    };
    const arrowOf = (b: Uint8Array) => decodeFileMetaData(b, 0, b.length).arrowSchema;
    // no key, a key that is not binary, a value that is not binary: none of them is the schema
    const none = footerWith([
      (w) => w.field(2, T.BINARY).binary('orphan'),
      (w) => w.field(1, T.I32).i32(3).field(2, T.BINARY).binary('int key'),
      (w) => w.field(1, T.BINARY).binary('ARROW:schema').field(2, T.I32).i32(5),
      (w) => w.field(1, T.BINARY).binary('other').field(2, T.BINARY).binary('x'),
    ]);
    expect(arrowOf(none)).toBeUndefined();
    // the value, not an unknown binary field after it
    const one = footerWith([(w) => w.field(1, T.BINARY).binary('ARROW:schema').field(2, T.BINARY).binary('abc').field(3, T.BINARY).binary('zz')]);
    expect(arrowOf(one)).toBe('abc');
  });

  it("a row group's first page offset is the least over its column chunks, in whatever order they come", () => {
    const w = new CompactWriter();
    w.struct(() => {
      w.field(2, T.LIST).list(T.STRUCT, 1);
      w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(0));
      w.field(3, T.I64).i64(5);
      w.field(4, T.LIST).list(T.STRUCT, 1);
      w.struct(() => {
        w.field(1, T.LIST).list(T.STRUCT, 3);
        for (const [size, page] of [[10, 500], [20, 100], [30, 300]]) w.struct(() => w.field(3, T.STRUCT).struct(() => w.field(7, T.I64).i64(size!).field(9, T.I64).i64(page!)));
        w.field(3, T.I64).i64(5);
      });
    });
    const bytes = w.bytes();
    expect(decodeFileMetaData(bytes, 0, bytes.length).rowGroups[0]).toMatchObject({ numColumns: 3, columnsCompressedSize: 60, startOffset: 100 });
  });

  it('a created_by that is not valid UTF-8 is decoded with replacement characters, not refused', () => {
    const w = new CompactWriter();
    w.struct(() => {
      w.field(2, T.LIST).list(T.STRUCT, 1);
      w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(0));
      w.field(3, T.I64).i64(0);
      w.field(6, T.BINARY).binary(new Uint8Array([0x77, 0xff, 0x41]));
    });
    const bytes = w.bytes();
    expect(decodeFileMetaData(bytes, 0, bytes.length).createdBy).toBe('w\uFFFDA');
  });
});
