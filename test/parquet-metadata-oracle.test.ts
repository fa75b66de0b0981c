// Every footer of the parquet corpus decoded by lakemap's FileMetaData reader and compared, field by
// field, with DuckDB's own reading of the same footer (parquet_file_metadata, parquet_metadata,
// parquet_schema, parquet_kv_metadata): every schema element (physical type, length, repetition,
// children, converted and logical type, scale, precision, field id), every row group's sizes and first
// page, the writer, the version, the Arrow schema entry (issue 15; test/parquet-corpus.test.ts checks
// rows, row-group bytes and top-level names through the scanner).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { queryRows, sqlString, withDuckDB } from '../fixtures/parquet/index.js';
import { cacheKey, cachedJson, fileStamps } from '../fixtures/run-cache.js';
import { decodeFileMetaData, decodeSchemaElements } from '../scanners/parquet/metadata.js';
import type { FooterMetadata, SchemaElement } from '../scanners/parquet/types.js';
import { describeWithCorpus } from './helpers/corpus.js';

// Enum names as parquet.thrift (apache/parquet-format) numbers them; DuckDB prints the names.
const PHYSICAL = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
const REPETITION = ['REQUIRED', 'OPTIONAL', 'REPEATED'];
const CONVERTED = [
  'UTF8', 'MAP', 'MAP_KEY_VALUE', 'LIST', 'ENUM', 'DECIMAL', 'DATE', 'TIME_MILLIS', 'TIME_MICROS', 'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS',
  'UINT_8', 'UINT_16', 'UINT_32', 'UINT_64', 'INT_8', 'INT_16', 'INT_32', 'INT_64', 'JSON', 'BSON', 'INTERVAL',
];
/** DuckDB prints a LogicalType as Thrift's `printTo`: `IntType(bitWidth=<byte>, isSigned=1)`, `DecimalType(scale=3, precision=7)`. */
const LOGICAL_KIND: Record<string, string> = {
  StringType: 'string', MapType: 'map', ListType: 'list', EnumType: 'enum', DecimalType: 'decimal', DateType: 'date', TimeType: 'time',
  TimestampType: 'timestamp', IntType: 'integer', NullType: 'null', JsonType: 'json', BsonType: 'bson', UUIDType: 'uuid', Float16Type: 'float16',
};

const opt = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** The footer of a parquet file: `bytes[start, end)` of the file. */
function footer(file: string): { bytes: Uint8Array; start: number; end: number } {
  const bytes = fs.readFileSync(file);
  const end = bytes.length - 8;
  return { bytes, start: end - bytes.readUInt32LE(end), end };
}

/** Ours, in DuckDB's terms. */
function ourElement(e: SchemaElement) {
  const lt = e.logicalType;
  let logical: string | undefined;
  if (lt?.kind === 'integer') logical = `integer(${lt.bitWidth}, ${lt.signed})`;
  else if (lt?.kind === 'decimal') logical = `decimal(${lt.scale}, ${lt.precision})`;
  else if (lt && lt.kind !== 'unknown') logical = lt.kind; // DuckDB prints no logical type for a member it does not know
  return {
    name: e.name,
    type: e.type === undefined ? undefined : PHYSICAL[e.type],
    typeLength: e.typeLength,
    repetition: e.repetition === undefined ? undefined : REPETITION[e.repetition],
    numChildren: e.numChildren,
    converted: e.convertedType === undefined ? undefined : CONVERTED[e.convertedType],
    scale: e.scale,
    precision: e.precision,
    fieldId: e.fieldId,
    logical,
  };
}

function duckLogical(s: unknown): string | undefined {
  if (s === null || s === undefined) return undefined;
  const text = String(s);
  const kind = LOGICAL_KIND[text.slice(0, text.indexOf('('))];
  if (kind === undefined) throw new Error(`unexpected logical type ${JSON.stringify(text)} from DuckDB`);
  if (kind === 'integer') {
    const m = /^IntType\(bitWidth=([\s\S]), isSigned=([01])\)$/.exec(text)!;
    return `integer(${m[1]!.charCodeAt(0)}, ${m[2] === '1'})`;
  }
  if (kind === 'decimal') {
    const m = /^DecimalType\(scale=(\d+), precision=(\d+)\)$/.exec(text)!;
    return `decimal(${m[1]}, ${m[2]})`;
  }
  return kind;
}

interface Duck {
  file: Record<string, unknown>;
  rowGroups: Record<string, unknown>[];
  columns: Record<string, unknown>[];
  schema: Record<string, unknown>[];
  arrowSchema: string | undefined;
}

describeWithCorpus('parquet', 'parquet footers of the corpus, lakemap vs DuckDB', (dir) => {
  const files: string[] = [];
  for (const top of ['data', 'bad_data']) {
    for (const n of fs.readdirSync(path.join(dir, top))) if (n.endsWith('.parquet')) files.push(path.join(dir, top, n));
  }
  files.sort();
  const duck = new Map<string, Duck>();

  beforeAll(async () => {
    // DuckDB's view of the read-only corpus, computed once per test run (fixtures/run-cache.ts)
    const views = await cachedJson(() => cacheKey(['parquet-metadata-oracle-duck', fileStamps(files)], [fileURLToPath(import.meta.url)]), () => duckViews());
    for (const [f, d] of views) duck.set(f, d);
  });
  const duckViews = (): Promise<[string, Duck][]> =>
    withDuckDB(async (con) => {
      const out: [string, Duck][] = [];
      for (const f of files) {
        const lit = sqlString(f);
        try {
          const [file] = await queryRows(con, `SELECT num_rows, created_by, format_version, encryption_algorithm FROM parquet_file_metadata(${lit})`);
          const rowGroups = await queryRows(
            con,
            `SELECT row_group_id, any_value(row_group_num_rows) AS num_rows, any_value(row_group_bytes) AS bytes,
                    any_value(row_group_num_columns) AS num_columns, any_value(row_group_compressed_bytes) AS compressed
             FROM parquet_metadata(${lit}) GROUP BY row_group_id ORDER BY row_group_id`,
          );
          const columns = await queryRows(
            con,
            `SELECT row_group_id, total_compressed_size, data_page_offset, dictionary_page_offset FROM parquet_metadata(${lit}) ORDER BY row_group_id, column_id`,
          );
          const schema = await queryRows(con, `SELECT * FROM parquet_schema(${lit})`);
          const kv = await queryRows(con, `SELECT decode(value) AS v FROM parquet_kv_metadata(${lit}) WHERE decode(key) = 'ARROW:schema'`);
          out.push([f, { file: file!, rowGroups, columns, schema, arrowSchema: kv.length > 0 ? String(kv[kv.length - 1]!.v) : undefined }]);
        } catch {
          // DuckDB refuses it: test/parquet-corpus.test.ts checks that lakemap refuses it too (or why not)
        }
      }
      return out;
    });

  it('DuckDB reads most of the corpus', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(duck.size).toBeGreaterThan(60);
  });

  it('every schema element agrees', () => {
    let elements = 0;
    for (const [f, d] of duck) {
      const { bytes, start, end } = footer(f);
      const meta = decodeFileMetaData(bytes, start, end);
      const ours = decodeSchemaElements(bytes, meta.schemaStart, end).map(ourElement);
      const theirs = d.schema.map((r) => ({
        name: String(r.name),
        type: (r.type ?? undefined) as string | undefined,
        typeLength: opt(r.type_length),
        repetition: (r.repetition_type ?? undefined) as string | undefined,
        numChildren: opt(r.num_children),
        converted: (r.converted_type ?? undefined) as string | undefined,
        scale: opt(r.scale),
        precision: opt(r.precision),
        fieldId: opt(r.field_id),
        logical: duckLogical(r.logical_type),
      }));
      expect(ours, f).toEqual(theirs);
      elements += ours.length;
    }
    expect(elements).toBeGreaterThan(500);
  });

  it('file facts and every row group agree', () => {
    for (const [f, d] of duck) {
      const { bytes, start, end } = footer(f);
      const meta: FooterMetadata = decodeFileMetaData(bytes, start, end);
      expect(meta.numRows, f).toBe(Number(d.file.num_rows));
      expect(meta.version, f).toBe(Number(d.file.format_version));
      expect(meta.createdBy, f).toBe(d.file.created_by ?? undefined);
      expect(meta.encrypted, f).toBe(d.file.encryption_algorithm !== null);
      expect(meta.arrowSchema, f).toBe(d.arrowSchema);
      expect(meta.rowGroups.map((g) => [g.numRows, g.totalByteSize, g.numColumns]), f).toEqual(
        d.rowGroups.map((g) => [Number(g.num_rows), Number(g.bytes), Number(g.num_columns)]),
      );
      meta.rowGroups.forEach((g, i) => {
        const cols = d.columns.filter((c) => Number(c.row_group_id) === i);
        expect(g.columnsCompressedSize, `${f} row group ${i}`).toBe(cols.reduce((s, c) => s + Number(c.total_compressed_size), 0));
        // the first page: the dictionary page when there is one before the data (0 means none for some writers)
        const first = Math.min(
          ...cols.map((c) => {
            const dict = opt(c.dictionary_page_offset) ?? 0;
            const data = Number(c.data_page_offset);
            return dict > 0 && dict < data ? dict : data;
          }),
        );
        expect(g.startOffset, `${f} row group ${i}`).toBe(cols.length > 0 ? first : -1);
        if (g.totalCompressedSize >= 0) expect(g.totalCompressedSize, `${f} row group ${i}`).toBe(Number(d.rowGroups[i]!.compressed));
      });
    }
  });
});
