// Bad parquet input: every failure is a LakemapError with a stable code that names the file; never a
// raw TypeError/RangeError, a hang or an allocation sized by an unchecked length. Also the footers no
// honest writer produces (lying counts, ARROW:schema entries), built with the synthetic footer writer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Field, FixedSizeList, Float32, Int64, Schema, Table, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeParquetFile } from '../fixtures/parquet/index.js';
import { CompactWriter, T, encodeFooter, writeSyntheticParquet, type SyntheticFooter } from '../fixtures/parquet/synthetic-footer.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { LakemapError, type LakemapErrorCode } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

let dir: string;
let good: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-parquet-bad-'));
  const file = path.join(dir, 'good.parquet');
  await writeParquetFile(file, { rows: 3000, rowGroupSize: 2048, columns: 'lake' });
  good = new Uint8Array(fs.readFileSync(file));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function writeBytes(bytes: Uint8Array, name = `bad-${counter++}.parquet`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Probes `file`, expecting a LakemapError with `code` that names the file; returns its message. */
async function expectFailure(file: string, code: LakemapErrorCode, reason?: RegExp): Promise<string> {
  let caught: unknown;
  try {
    await probeLocalFile(parquetScanner, file);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'probe should fail').toBeInstanceOf(LakemapError);
  const err = caught as LakemapError;
  expect(err.code, err.message).toBe(code);
  expect(err.path).toBe(path.basename(file));
  expect(err.message).toContain(path.basename(file));
  if (reason) expect(err.message).toMatch(reason);
  return err.message;
}

const footerLength = (b: Uint8Array): number => Buffer.from(b.buffer, b.byteOffset, b.length).readUInt32LE(b.length - 8);

describe('files that are not parquet or are cut short', () => {
  it('refuses a file smaller than magic + trailer', async () => {
    await expectFailure(writeBytes(Buffer.from('PAR1PAR1')), 'CORRUPT_FILE', /too small/);
    await expectFailure(writeBytes(new Uint8Array(0)), 'CORRUPT_FILE', /too small/);
  });

  it('refuses garbage without the trailing magic', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    await expectFailure(writeBytes(garbage), 'CORRUPT_FILE', /PAR1/);
  });

  it('refuses a truncated file (the tail is page data, not a footer)', async () => {
    await expectFailure(writeBytes(good.subarray(0, Math.floor(good.length / 2))), 'CORRUPT_FILE', /PAR1/);
  });

  it('refuses a footer length that runs past the start of the file, before allocating it', async () => {
    for (const len of [good.length - 8, good.length, 0xffffffff]) {
      const bytes = good.slice();
      new DataView(bytes.buffer).setUint32(bytes.length - 8, len, true);
      await expectFailure(writeBytes(bytes), 'CORRUPT_FILE', /footer length \d+ runs past the start/);
    }
  });

  it('refuses a zero footer length', async () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setUint32(bytes.length - 8, 0, true);
    await expectFailure(writeBytes(bytes), 'CORRUPT_FILE', /footer length is 0/);
  });

  it('refuses a footer length shorter than the footer (thrift runs out)', async () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setUint32(bytes.length - 8, footerLength(good) - 40, true);
    await expectFailure(writeBytes(bytes), 'CORRUPT_FILE', /invalid parquet footer/);
  });

  it('refuses an all-zero footer', async () => {
    const bytes = good.slice();
    bytes.fill(0, bytes.length - 8 - footerLength(good), bytes.length - 8);
    await expectFailure(writeBytes(bytes), 'CORRUPT_FILE', /no schema|no num_rows/);
  });
});

describe('encrypted files', () => {
  it('refuses an encrypted footer (PARE) as UNSUPPORTED', async () => {
    const bytes = good.slice();
    bytes.set(Buffer.from('PARE'), bytes.length - 4);
    await expectFailure(writeBytes(bytes), 'UNSUPPORTED', /encrypted footer \(PARE\)/);
  });

  it('refuses a plaintext footer over encrypted columns as UNSUPPORTED', async () => {
    const footer = encodeFooter({ ...oneColumn(), extra: (w) => w.field(8, T.STRUCT).struct((s) => s.field(1, T.STRUCT).struct(() => {})) });
    await expectFailure(writeFooter(footer), 'UNSUPPORTED', /encrypted columns/);
  });
});

describe('fuzzed footers never crash or hang', () => {
  it('mutating footer bytes gives a mapping or a LakemapError, nothing else', async () => {
    const L = footerLength(good);
    const start = good.length - 8 - L;
    let failures = 0;
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 400; i++) {
      const bytes = good.slice();
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) bytes[start + rand(L)] = rand(256);
      try {
        const probe = await probeLocalFile(parquetScanner, writeBytes(bytes, 'fuzz.parquet'));
        expect(Number.isSafeInteger(probe.rows) && probe.rows >= 0).toBe(true);
      } catch (e) {
        if (!(e instanceof LakemapError)) throw new Error(`iteration ${i}: ${String(e)}`, { cause: e });
        expect(['CORRUPT_FILE', 'UNSUPPORTED']).toContain(e.code);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

/** A valid one-column footer to vary. */
function oneColumn(): SyntheticFooter {
  return {
    numRows: 10,
    schema: [{ name: 'schema', numChildren: 1 }, { name: 'x', type: 1, repetition: 1 }],
    rowGroups: [{ numRows: 10, columns: [{ compressed: 40, dataPageOffset: 4 }] }],
    createdBy: 'lakemap synthetic',
  };
}

function writeFooter(footer: Uint8Array, name?: string): string {
  const file = path.join(dir, name ?? `synthetic-${counter++}.parquet`);
  writeSyntheticParquet(file, footer);
  return file;
}

describe('footers with lying or malformed fields', () => {
  it('maps a valid synthetic footer (the baseline for the cases below)', async () => {
    const probe = await probeLocalFile(parquetScanner, writeFooter(encodeFooter(oneColumn())));
    expect(probe.rows).toBe(10);
    expect(probe.units).toEqual([{ rows: 10, byteSize: 40, details: { ordinal: 0, fileOffset: 4 } }]);
    expect(String(probe.schema.fields[0]!.type)).toBe('Int32');
  });

  it('keeps the row-group sum and warns when num_rows disagrees', async () => {
    const probe = await probeLocalFile(parquetScanner, writeFooter(encodeFooter({ ...oneColumn(), numRows: 0 })));
    expect(probe.rows).toBe(10);
    expect(probe.details?.footerNumRows).toBe(0);
    expect(probe.warnings).toEqual([expect.stringMatching(/num_rows is 0 but the row groups hold 10 rows/)]);
  });

  it('refuses negative counts', async () => {
    await expectFailure(writeFooter(encodeFooter({ ...oneColumn(), numRows: -1 })), 'CORRUPT_FILE', /negative num_rows/);
    const rg = oneColumn();
    rg.rowGroups[0]!.numRows = -5;
    await expectFailure(writeFooter(encodeFooter(rg)), 'CORRUPT_FILE', /negative num_rows/);
    const col = oneColumn();
    col.rowGroups[0]!.columns[0]!.compressed = -40;
    await expectFailure(writeFooter(encodeFooter(col)), 'CORRUPT_FILE', /total_compressed_size/);
  });

  it('refuses a list whose length runs past the footer', async () => {
    const w = new CompactWriter().field(2, T.LIST).list(T.STRUCT, 1_000_000_000).raw([0, 0]);
    await expectFailure(writeFooter(w.bytes()), 'CORRUPT_FILE', /list of 1000000000 elements runs past the end/);
  });

  it('refuses a string whose length runs past the footer', async () => {
    const f = encodeFooter(oneColumn());
    const w = new CompactWriter().raw([...f.subarray(0, f.length - 1)]).field(20, T.BINARY).varint(2 ** 31).raw([0]);
    await expectFailure(writeFooter(w.bytes()), 'CORRUPT_FILE', /binary of \d+ bytes runs past the end/);
  });

  it('refuses unknown fields nested deeper than the limit instead of overflowing the stack', async () => {
    const deep = 100_000;
    const f = encodeFooter(oneColumn());
    const nest = new Array<number>(deep).fill(0x1c); // field delta 1, type STRUCT, again and again
    const w = new CompactWriter().raw([...f.subarray(0, f.length - 1)]).field(30, T.STRUCT).raw(nest).raw(new Array<number>(deep + 1).fill(0));
    await expectFailure(writeFooter(w.bytes()), 'CORRUPT_FILE', /nested deeper than 64/);
  });

  it('skips unknown fields of every type', async () => {
    const footer = encodeFooter({
      ...oneColumn(),
      extra: (w) => {
        w.field(20, T.DOUBLE).raw([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
        w.field(21, T.LIST).list(T.I64, 3).i64(1).i64(-2).i64(3);
        w.field(22, T.MAP).varint(1).byte((T.BINARY << 4) | T.I32).binary('k').i32(7);
        w.field(23, T.TRUE).field(24, T.BYTE).byte(9);
        w.field(25, T.LIST).list(T.TRUE, 2).raw([1, 2]);
      },
    });
    expect((await probeLocalFile(parquetScanner, writeFooter(footer))).rows).toBe(10);
  });

  it('refuses a schema whose num_children exceeds the elements that follow', async () => {
    const f = oneColumn();
    f.schema[0]!.numChildren = 5;
    await expectFailure(writeFooter(encodeFooter(f)), 'CORRUPT_FILE', /claims 5 children but 1 elements follow/);
  });

  it('refuses an unknown physical type', async () => {
    const f = oneColumn();
    f.schema[1]!.type = 42;
    await expectFailure(writeFooter(encodeFooter(f)), 'CORRUPT_FILE', /unknown physical type 42/);
  });

  it('refuses a row group whose column chunks do not match the leaf columns', async () => {
    const f = oneColumn();
    f.rowGroups[0]!.columns.push({ compressed: 1, dataPageOffset: 50 });
    await expectFailure(writeFooter(encodeFooter(f)), 'CORRUPT_FILE', /2 column chunks but the schema has 1 leaf columns/);
  });

  it('ignores a dictionary_page_offset of 0 (absent) when locating a row group', async () => {
    const f = oneColumn();
    f.rowGroups[0]!.columns[0] = { compressed: 40, dataPageOffset: 24, dictPageOffset: 0 };
    const probe = await probeLocalFile(parquetScanner, writeFooter(encodeFooter(f)));
    expect(probe.units[0]!.details?.fileOffset).toBe(24);
    f.rowGroups[0]!.columns[0] = { compressed: 40, dataPageOffset: 24, dictPageOffset: 4 };
    const withDict = await probeLocalFile(parquetScanner, writeFooter(encodeFooter(f)));
    expect(withDict.units[0]!.details?.fileOffset).toBe(4);
  });
});

describe('ARROW:schema key/value metadata', () => {
  const vectorSchema = new Schema([new Field('id', new Int64(), false), new Field('vec', new FixedSizeList(4, new Field('item', new Float32(), true)), true)]);
  const ipc = tableToIPC(new Table(vectorSchema), 'stream');
  const arrowBase64 = Buffer.from(ipc.subarray(0, ipc.length - 8)).toString('base64'); // without the EOS marker
  const parquetSide: SyntheticFooter = {
    numRows: 3,
    schema: [
      { name: 'schema', numChildren: 2 },
      { name: 'id', type: 2, repetition: 0 },
      { name: 'vec', repetition: 1, numChildren: 1, convertedType: 3 },
      { name: 'list', repetition: 2, numChildren: 1 },
      { name: 'item', type: 4, repetition: 1 },
    ],
    rowGroups: [{ numRows: 3, columns: [{ compressed: 10, dataPageOffset: 4 }, { compressed: 30, dataPageOffset: 14 }] }],
  };

  it('uses the writer\'s Arrow schema (a fixed-size vector) and memoizes it', async () => {
    const footer = encodeFooter({ ...parquetSide, keyValue: [['other', 'x'], ['ARROW:schema', arrowBase64]] });
    const a = await probeLocalFile(parquetScanner, writeFooter(footer));
    const b = await probeLocalFile(parquetScanner, writeFooter(footer));
    expect(String(a.schema.fields[1]!.type)).toBe('FixedSizeList[4]<Float32>');
    expect(a.schema.fields[0]!.nullable).toBe(false);
    expect(a.warnings).toBeUndefined();
    expect(b.schema).toBe(a.schema);
  });

  it('falls back to the parquet schema, with a warning, when ARROW:schema does not decode', async () => {
    const probe = await probeLocalFile(parquetScanner, writeFooter(encodeFooter({ ...parquetSide, keyValue: [['ARROW:schema', 'bm90IGFycm93']] })));
    expect(String(probe.schema.fields[1]!.type)).toBe('List<Float32>');
    expect(probe.warnings).toEqual([expect.stringMatching(/ARROW:schema metadata does not decode/)]);
  });

  it('falls back when ARROW:schema names other columns', async () => {
    const other = tableToIPC(new Table(new Schema([new Field('zzz', new Int64())])), 'stream');
    const b64 = Buffer.from(other.subarray(0, other.length - 8)).toString('base64');
    const probe = await probeLocalFile(parquetScanner, writeFooter(encodeFooter({ ...parquetSide, keyValue: [['ARROW:schema', b64]] })));
    expect(probe.schema.fields.map((f) => f.name)).toEqual(['id', 'vec']);
    expect(probe.warnings).toEqual([expect.stringMatching(/names other columns/)]);
  });
});
