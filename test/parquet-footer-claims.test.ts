// Issue 8 item 3: counts a footer claims are checked against the bytes that would have to hold them,
// before anything is decoded or allocated for them (3 bytes per schema element or column chunk at least).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompactWriter, T, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { LakemapError } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';
import { tempDir } from './helpers/tmp.js';

async function failure(file: string): Promise<LakemapError> {
  try {
    await probeLocalFile(parquetScanner, file);
  } catch (e) {
    expect(e).toBeInstanceOf(LakemapError);
    return e as LakemapError;
  }
  throw new Error('the probe should have failed');
}

describe('footer counts against footer bytes', () => {
  it('a schema list claiming more elements than its bytes can hold is CORRUPT_FILE with the numbers', async () => {
    const w = new CompactWriter();
    // 1,000 elements claimed, 1,500 bytes follow: one byte each would fit, three (name + stop) do not.
    w.struct(() => {
      w.field(1, T.I32).i32(1);
      w.field(2, T.LIST).list(T.STRUCT, 1000);
      w.raw(new Array(1500).fill(0));
    });
    const file = path.join(tempDir(), 'claims.parquet');
    writeSyntheticParquet(file, w.bytes());
    const err = await failure(file);
    expect(err.code).toBe('CORRUPT_FILE');
    expect(err.message).toContain(path.basename(file));
    expect(err.message).toMatch(/schema claims 1000 elements, but its 15\d\d bytes hold at most 5\d\d/);
  });

  it('a row group claiming more column chunks than the bytes left can hold is CORRUPT_FILE with the numbers', async () => {
    const w = new CompactWriter();
    w.struct(() => {
      w.field(1, T.I32).i32(1);
      w.field(2, T.LIST).list(T.STRUCT, 2);
      w.struct(() => w.field(4, T.BINARY).binary('s').field(5, T.I32).i32(1));
      w.struct(() => w.field(1, T.I32).i32(1).field(4, T.BINARY).binary('a'));
      w.field(3, T.I64).i64(1);
      w.field(4, T.LIST).list(T.STRUCT, 1);
      w.struct(() => {
        w.field(1, T.LIST).list(T.STRUCT, 900);
        w.raw(new Array(1200).fill(0));
      });
    });
    const file = path.join(tempDir(), 'chunks.parquet');
    writeSyntheticParquet(file, w.bytes());
    const err = await failure(file);
    expect(err.code).toBe('CORRUPT_FILE');
    expect(err.message).toContain(path.basename(file));
    expect(err.message).toMatch(/row group 0 claims 900 column chunks, but the 12\d\d bytes left hold at most 4\d\d/);
  });
});
