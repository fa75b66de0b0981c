// Footers that leave out top-level FileMetaData fields, hand-encoded (issue 15: mutants of
// scanners/parquet/metadata.ts that the rest of the suite let survive). A footer without a schema is
// CORRUPT_FILE with the reason; one without row groups (thrift says required; writers of empty files
// have omitted it) is a file of no row groups, not a made-up one.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompactWriter, T, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { decodeFileMetaData } from '../scanners/parquet/metadata.js';
import { LakemapError } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';
import { tempDir } from './helpers/tmp.js';

const INT32 = 1;
const OPT = 1;
const dir = tempDir('lakemap-parquet-absent-');
let n = 0;

/** A footer struct written field by field. */
function footer(fields: (w: CompactWriter) => void): Uint8Array {
  const w = new CompactWriter();
  w.struct(fields);
  return w.bytes();
}
/** FileMetaData.schema: the root and one optional INT32 column `a`. */
const schemaList = (w: CompactWriter): void => {
  w.field(2, T.LIST).list(T.STRUCT, 2);
  w.struct(() => w.field(4, T.BINARY).binary('schema').field(5, T.I32).i32(1));
  w.struct(() => w.field(1, T.I32).i32(INT32).field(3, T.I32).i32(OPT).field(4, T.BINARY).binary('a'));
};
const probe = (bytes: Uint8Array) => {
  const file = path.join(dir, `f${n++}.parquet`);
  writeSyntheticParquet(file, bytes);
  return { file, result: probeLocalFile(parquetScanner, file) };
};

describe('footers without some top-level fields', () => {
  it('no schema list: CORRUPT_FILE naming the file and the missing schema', async () => {
    const { file, result } = probe(footer((w) => w.field(1, T.I32).i32(1).field(3, T.I64).i64(0)));
    const e = await result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LakemapError);
    expect((e as LakemapError).code).toBe('CORRUPT_FILE');
    expect((e as LakemapError).message).toContain(path.basename(file));
    expect((e as LakemapError).message).toMatch(/FileMetaData has no schema/);
  });

  it('no row_groups list: no row groups, no units, the schema still mapped', async () => {
    const bytes = footer((w) => (w.field(1, T.I32).i32(1), schemaList(w), w.field(3, T.I64).i64(0)));
    const meta = decodeFileMetaData(bytes, 0, bytes.length);
    expect(meta.rowGroups).toEqual([]);
    expect(meta.numRows).toBe(0);
    expect(meta.version).toBe(1);
    const p = await probe(bytes).result;
    expect(p.rows).toBe(0);
    expect(p.units).toEqual([]);
    expect(p.schema.fields.map((f) => f.name)).toEqual(['a']);
  });
});
