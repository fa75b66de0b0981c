// Malformed Iceberg metadata must fail the scan with a LakemapError and a reason: never a crash or a hang.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakemapError } from '../src/scanner.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { readAvroContainer } from '../scanners/iceberg/avro.js';
import { snappyUncompress } from '../scanners/iceberg/snappy.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable, SNAP3 } from '../fixtures/iceberg/sample-tables.js';
import { snapshotLocalTable } from './helpers/scan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-bad-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function freshTable(): string {
  const dir = path.join(tmp, `t${n++}`);
  fs.mkdirSync(dir);
  writeFixtureTable(dir, historyTable());
  return dir;
}
async function failure(dir: string, spec = {}): Promise<LakemapError> {
  const err = await snapshotLocalTable(icebergScanner, dir, spec).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LakemapError);
  return err as LakemapError;
}
const manifestList = (dir: string) => path.join(dir, `metadata/snap-${SNAP3}.avro`);
const manifest = (dir: string) => path.join(dir, `metadata/${SNAP3}-m0.avro`);

describe('iceberg-table: malformed metadata', () => {
  it('bad JSON in the metadata file', async () => {
    const dir = freshTable();
    fs.writeFileSync(path.join(dir, 'metadata/v4.metadata.json'), '{"format-version": 2, "location": ');
    const err = await failure(dir);
    expect(err.code).toBe('CORRUPT_FILE');
    expect(err.message).toMatch(/metadata\/v4\.metadata\.json: table metadata is not valid JSON/);
  });

  it('metadata that is JSON but not table metadata', async () => {
    const dir = freshTable();
    fs.writeFileSync(path.join(dir, 'metadata/v4.metadata.json'), JSON.stringify({ 'format-version': 9, location: 'x' }));
    expect((await failure(dir)).message).toMatch(/format-version "9" is not 1, 2 or 3/);
    fs.writeFileSync(path.join(dir, 'metadata/v4.metadata.json'), JSON.stringify({ 'format-version': 2, location: 'x', schemas: [{ fields: 3 }] }));
    expect((await failure(dir)).message).toMatch(/a schema has no fields array/);
  });

  it('the corpus bad_iceberg_metadata.json (JSON lines, not metadata)', async () => {
    const corpusFile = path.resolve(import.meta.dirname, '../../shared/corpus/iceberg/bad_data/bad_iceberg_metadata.json');
    expect(fs.existsSync(corpusFile), `the Iceberg corpus is missing: ${corpusFile}`).toBe(true);
    const dir = freshTable();
    fs.copyFileSync(corpusFile, path.join(dir, 'metadata/v4.metadata.json'));
    expect((await failure(dir)).code).toBe('CORRUPT_FILE');
  });

  it('a missing manifest list', async () => {
    const dir = freshTable();
    fs.rmSync(manifestList(dir));
    const err = await failure(dir);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(`snap-${SNAP3}.avro`);
  });

  it('a missing manifest, or a folder where it should be, is NOT_FOUND naming it', async () => {
    for (const replace of [false, true]) {
      const dir = freshTable();
      fs.rmSync(manifest(dir));
      if (replace) fs.mkdirSync(manifest(dir));
      const err = await failure(dir);
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toMatch(new RegExp(`manifest .*${SNAP3}-m0\\.avro maps to metadata/${SNAP3}-m0\\.avro, which does not exist`));
    }
  });

  it('a truncated manifest', async () => {
    const dir = freshTable();
    const bytes = fs.readFileSync(manifest(dir));
    fs.writeFileSync(manifest(dir), bytes.subarray(0, bytes.length - 30));
    const err = await failure(dir);
    expect(err.code).toBe('CORRUPT_FILE');
    expect(err.message).toContain(`${SNAP3}-m0.avro`);
  });

  it('a manifest list that is not Avro', async () => {
    const dir = freshTable();
    fs.writeFileSync(manifestList(dir), 'PAR1 not avro at all');
    expect((await failure(dir)).message).toMatch(/not an Avro object container file/);
  });

  it('a snapshot id that does not exist', async () => {
    const err = await failure(freshTable(), { snapshot_id: '42' });
    expect(err.code).toBe('VERSION_NOT_FOUND');
    expect(err.message).toContain('snapshot 42 does not exist');
  });

  it('no metadata at all', async () => {
    const dir = path.join(tmp, 'empty-dir');
    fs.mkdirSync(dir);
    expect((await failure(dir)).code).toBe('NOT_FOUND');
  });

  it('a huge array count in a record fails fast instead of spinning', () => {
    // Header of a valid file, then one block whose record claims an array of 2^40 items.
    const dir = freshTable();
    const good = readAvroContainer(fs.readFileSync(manifest(dir)), 'm.avro');
    expect(good.records.length).toBe(4);
    const schema = { type: 'record', name: 'r', fields: [{ name: 'xs', type: { type: 'array', items: 'long' } }] };
    const header = Buffer.concat([Buffer.from('Obj\x01', 'latin1'), Buffer.from([2, 22]), Buffer.from('avro.schema'),
      zigzagBytes(Buffer.from(JSON.stringify(schema))), Buffer.from([0]), Buffer.alloc(16, 7)]);
    const record = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 2, 0]); // count 2^40 (zigzag), one item
    const file = Buffer.concat([header, Buffer.from([2]), zigzag(record.length), record, Buffer.alloc(16, 7)]);
    // no timing assertion (noisy machines): a loop over 2^40 items would never end, and the test's timeout catches it
    expect(() => readAvroContainer(file, 'bomb.avro')).toThrow(/bomb\.avro: Avro record 0 runs past the end/);
  });

  it('random corruption of manifests never escapes as a non-LakemapError', async () => {
    const dir = freshTable();
    const original = fs.readFileSync(manifest(dir));
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let failed = 0;
    for (let i = 0; i < 150; i++) {
      const bytes = Buffer.from(original);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      fs.writeFileSync(manifest(dir), i % 10 === 0 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes);
      try {
        await snapshotLocalTable(icebergScanner, dir);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(LakemapError);
        failed++;
      }
    }
    // Most mutations must be caught (deflate blocks and sync markers leave little room to pass unnoticed).
    expect(failed).toBeGreaterThan(100); // 127 of 150 with this seed
  });

  it('malformed snappy blocks are refused with a reason', () => {
    expect(() => snappyUncompress(Uint8Array.from([5, 0x0c, 1, 2]), 100)).toThrow(/snappy: literal runs past the end/);
    expect(() => snappyUncompress(Uint8Array.from([4, 0x01, 0x05]), 100)).toThrow(/points before the start/);
    expect(() => snappyUncompress(Uint8Array.from([0xff, 0xff, 0xff, 0x7f]), 100)).toThrow(/exceeds/);
    expect(Buffer.from(snappyUncompress(Uint8Array.from([6, 0x04, 0x61, 0x62, 0x01, 0x01]), 100)).toString()).toBe('abbbbb');
  });
});

function zigzag(n: number): Buffer {
  const out: number[] = [];
  let z = n * 2;
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}
function zigzagBytes(b: Buffer): Buffer {
  return Buffer.concat([zigzag(b.length), b]);
}
