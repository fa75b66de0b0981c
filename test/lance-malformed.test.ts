// Malformed manifests, deletion files and data files: every one fails with a LakemapError that names
// the file and the reason; never a crash, a hang or an allocation sized by an unchecked field.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanceScanner } from '../scanners/lance/index.js';
import { roaringCardinality } from '../scanners/lance/roaring.js';
import { arrowIpcRowCount } from '../scanners/lance/deletion-arrow.js';
import { LakemapError } from '../src/scanner.js';
import type { LakemapErrorCode } from '../src/scanner.js';
import { writeEventsTable } from '../fixtures/lance/lancedb-tables.js';
import { encodeManifest, manifestFileBytes, writeManifest } from '../fixtures/lance/manifest-writer.js';
import type { SyntheticManifest } from '../fixtures/lance/manifest-writer.js';
import { snapshotLocalTable } from './helpers/scan.js';

let tmp: string;
let realDataset: string;
let realManifest: Uint8Array;
let realDeletionArrow: Uint8Array;
let realDeletionBitmap: Uint8Array;
let caseNo = 0;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-bad-'));
  realDataset = (await writeEventsTable(path.join(tmp, 'db'))).datasetDir;
  realManifest = fs.readFileSync(path.join(realDataset, '_versions', '18446744073709551610.manifest'));
  const dels = fs.readdirSync(path.join(realDataset, '_deletions'));
  realDeletionArrow = fs.readFileSync(path.join(realDataset, '_deletions', dels.find((d) => d.endsWith('.arrow'))!));
  realDeletionBitmap = fs.readFileSync(path.join(realDataset, '_deletions', dels.find((d) => d.endsWith('.bin'))!));
}, 60_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh dataset directory whose only manifest is `bytes` (as version 1). */
function datasetWithManifest(bytes: Uint8Array): string {
  const dir = path.join(tmp, `case-${caseNo++}`);
  fs.mkdirSync(path.join(dir, '_versions'), { recursive: true });
  fs.writeFileSync(path.join(dir, '_versions', '1.manifest'), bytes);
  return dir;
}

async function expectFailure(dir: string, code: LakemapErrorCode, reason: RegExp): Promise<void> {
  const err = await snapshotLocalTable(lanceScanner, dir).catch((e: unknown) => e);
  expect(LakemapError.is(err), `expected a LakemapError, got ${String(err)}`).toBe(true);
  expect((err as LakemapError).code).toBe(code);
  expect((err as Error).message).toMatch(reason);
}

const oneFragment = (over: Partial<SyntheticManifest['fragments'][0]> = {}): SyntheticManifest => ({
  version: 1,
  fields: [{ name: 'id', id: 0, logicalType: 'int64' }],
  fragments: [{ id: 0, files: [{ path: 'a.lance', sizeBytes: 10 }], physicalRows: 5, ...over }],
  writerVersion: { library: 'lance', version: '8.0.0' },
});

describe('malformed manifest files', () => {
  it('refuses a manifest without the LANC magic', async () => {
    const bytes = Uint8Array.from(realManifest);
    bytes[bytes.length - 1] = 0x58;
    await expectFailure(datasetWithManifest(bytes), 'CORRUPT_FILE', /_versions\/1\.manifest: .*magic/);
  });

  it('refuses a trailer position outside the file', async () => {
    for (const pos of [BigInt(realManifest.length), -1n, 1n << 62n]) {
      const bytes = Uint8Array.from(realManifest);
      new DataView(bytes.buffer).setBigInt64(bytes.length - 16, pos, true);
      await expectFailure(datasetWithManifest(bytes), 'CORRUPT_FILE', /trailer points at offset|no room/);
    }
  });

  it('refuses a length prefix that disagrees with the bytes before the trailer', async () => {
    const msg = encodeManifest(oneFragment());
    const bytes = manifestFileBytes(msg);
    new DataView(bytes.buffer).setUint32(0, 0xfffffff0, true);
    await expectFailure(datasetWithManifest(bytes), 'CORRUPT_FILE', /length prefix says 4294967280 bytes/);
  });

  it('refuses a file shorter than the trailer', async () => {
    await expectFailure(datasetWithManifest(new Uint8Array([0x4c, 0x41, 0x4e, 0x43])), 'CORRUPT_FILE', /too short/);
  });

  it('fails cleanly on every truncation of a real manifest', async () => {
    for (let len = 0; len < realManifest.length; len += Math.max(1, Math.floor(realManifest.length / 150))) {
      await expectFailure(datasetWithManifest(realManifest.subarray(0, len)), 'CORRUPT_FILE', /_versions\/1\.manifest/);
    }
  });

  it('fails cleanly or maps when bytes of a real manifest are flipped', async () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(realManifest);
      for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * (bytes.length - 16))] = Math.floor(rand() * 256);
      // The data files exist, so a mutation that still decodes may map; anything else must be a LakemapError.
      const dir = datasetWithManifest(bytes);
      fs.cpSync(path.join(realDataset, 'data'), path.join(dir, 'data'), { recursive: true });
      fs.cpSync(path.join(realDataset, '_deletions'), path.join(dir, '_deletions'), { recursive: true });
      const res = await snapshotLocalTable(lanceScanner, dir).catch((e: unknown) => e);
      if (res instanceof Error) {
        expect(LakemapError.is(res), String(res)).toBe(true);
        failures++;
      }
      fs.rmSync(dir, { recursive: true });
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('refuses a protobuf length field that runs past the message', async () => {
    const msg = encodeManifest(oneFragment());
    // Field 2 (fragments), length-delimited, claiming 2^31 bytes.
    const bad = Uint8Array.from([...msg, 0x12, 0x80, 0x80, 0x80, 0x80, 0x08, 0x01]);
    await expectFailure(datasetWithManifest(manifestFileBytes(bad)), 'CORRUPT_FILE', /protobuf is malformed: .*runs past the end/);
  });
});

describe('manifest fields of the wrong wire type', () => {
  /** A protobuf varint (field keys above 15 take two bytes). */
  const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);

  it('names the field: a message or string sent as a varint, a number sent as bytes', async () => {
    const lengthDelimited = { 1: 'fields', 2: 'fragments', 5: 'schema_metadata', 7: 'timestamp', 8: 'tag', 12: 'transaction_file', 13: 'writer_version', 15: 'data_format', 18: 'base_paths', 20: 'branch' };
    for (const [no, name] of Object.entries(lengthDelimited)) {
      const bad = Uint8Array.from([...encodeManifest(oneFragment()), ...varint(Number(no) << 3), 1]);
      await expectFailure(datasetWithManifest(manifestFileBytes(bad)), 'CORRUPT_FILE', new RegExp(`Manifest\\.${name} has wire type 0, expected 2`));
    }
    for (const [no, name] of Object.entries({ 3: 'version', 9: 'reader_feature_flags' })) {
      const bad = Uint8Array.from([...encodeManifest(oneFragment()), ...varint((Number(no) << 3) | 2), 0]);
      await expectFailure(datasetWithManifest(manifestFileBytes(bad)), 'CORRUPT_FILE', new RegExp(`Manifest\\.${name} has wire type 2, expected 0`));
    }
  });
});

describe('implausible counts', () => {
  it('refuses physical rows beyond 2^53', async () => {
    const bytes = manifestFileBytes(encodeManifest(oneFragment({ physicalRows: 1n << 63n })));
    await expectFailure(datasetWithManifest(bytes), 'CORRUPT_FILE', /physical_rows is 9223372036854775808, beyond any real table/);
  });

  it('refuses fragments whose rows add up beyond 2^53', async () => {
    const m = oneFragment();
    m.fragments = [0, 1, 2].map((id) => ({ id, files: [{ path: `${id}.lance`, sizeBytes: 1 }], physicalRows: 2 ** 52 }));
    await expectFailure(datasetWithManifest(manifestFileBytes(encodeManifest(m))), 'CORRUPT_FILE', /beyond any real table/);
  });

  it('refuses more deleted rows than physical rows', async () => {
    const m = oneFragment({ deletion: { type: 'arrow', readVersion: 1, id: 7, deletedRows: 6 } });
    await expectFailure(datasetWithManifest(manifestFileBytes(encodeManifest(m))), 'CORRUPT_FILE', /fragment 0 deletes 6 rows but has only 5/);
  });

  it('refuses a fragment without data files', async () => {
    const m = oneFragment({ files: [] });
    await expectFailure(datasetWithManifest(manifestFileBytes(encodeManifest(m))), 'CORRUPT_FILE', /fragment 0 has no data files/);
  });

  it('shows no timestamp rather than crashing on one no Date can hold', async () => {
    const msg = encodeManifest(oneFragment({ physicalRows: 5 }));
    // Field 7 (timestamp) = { seconds: 2^62 }.
    const ts = Uint8Array.from([0x3a, 0x0a, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    const dir = datasetWithManifest(manifestFileBytes(Uint8Array.from([...msg, ...ts])));
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.details?.['timestamp']).toBeNull();
  });

  it('shows a timestamp up to the last one a Date holds (±8.64e15 ms), none past it or when absent', async () => {
    const varint = (n: bigint): number[] => (n < 0x80n ? [Number(n)] : [Number(n & 0x7fn) | 0x80, ...varint(n >> 7n)]);
    const at = async (seconds: bigint | undefined, nanos = 0): Promise<unknown> => {
      const body = seconds === undefined ? [] : [0x08, ...varint(BigInt.asUintN(64, seconds)), ...(nanos ? [0x10, ...varint(BigInt(nanos))] : [])];
      const msg = [...encodeManifest(oneFragment({ physicalRows: 5 })), ...(seconds === undefined ? [] : [0x3a, body.length, ...body])];
      return (await snapshotLocalTable(lanceScanner, datasetWithManifest(manifestFileBytes(Uint8Array.from(msg))))).details?.['timestamp'];
    };
    expect(await at(1_700_000_000n, 123_000_000)).toBe('2023-11-14T22:13:20.123Z');
    expect(await at(8_640_000_000_000n)).toBe('+275760-09-13T00:00:00.000Z');
    expect(await at(-8_640_000_000_000n)).toBe('-271821-04-20T00:00:00.000Z');
    expect(await at(8_640_000_000_000n, 1_000_000)).toBeNull(); // one millisecond past
    expect(await at(undefined)).toBeNull();
  });

  it('refuses reader features it does not know', async () => {
    const m = { ...oneFragment(), readerFeatureFlags: 1 | 64 };
    await expectFailure(datasetWithManifest(manifestFileBytes(encodeManifest(m))), 'UNSUPPORTED', /reader flags 65/);
  });
});

describe('malformed files read when counts are missing', () => {
  const needsDeletionFile = (type: 'arrow' | 'bitmap', bytes: Uint8Array): string => {
    const dir = datasetWithManifest(manifestFileBytes(encodeManifest(oneFragment({ physicalRows: 100_000, deletion: { type, readVersion: 1, id: 9 } }))));
    fs.mkdirSync(path.join(dir, '_deletions'));
    fs.writeFileSync(path.join(dir, '_deletions', `0-1-9.${type === 'arrow' ? 'arrow' : 'bin'}`), bytes);
    return dir;
  };

  it('reads the real deletion files, then refuses truncated ones', async () => {
    expect(arrowIpcRowCount(realDeletionArrow)).toBe(10);
    expect(roaringCardinality(realDeletionBitmap)).toBe(18_000);
    for (const [type, real] of [['arrow', realDeletionArrow], ['bitmap', realDeletionBitmap]] as const) {
      const ok = await snapshotLocalTable(lanceScanner, needsDeletionFile(type, real));
      expect(ok.entries[0]!.liveRows).toBe(100_000 - (type === 'arrow' ? 10 : 18_000));
      for (let len = 0; len < real.length; len += Math.max(1, Math.floor(real.length / 60))) {
        const err = await snapshotLocalTable(lanceScanner, needsDeletionFile(type, real.subarray(0, len))).catch((e: unknown) => e);
        expect(LakemapError.is(err, 'CORRUPT_FILE'), `${type} cut at ${len}: ${String(err)}`).toBe(true);
        expect((err as Error).message).toMatch(/_deletions\/0-1-9\.(arrow|bin): unreadable deletion file/);
      }
    }
  });

  it('refuses an Arrow deletion file whose record batch message lacks its header table', () => {
    // Walk the real file's encapsulated messages (after the ARROW1 magic and padding) and drop the record batch's
    // header from its flatbuffer vtable (slot 2), leaving its header type (slot 1) in place.
    const bytes = new Uint8Array(realDeletionArrow);
    const v = new DataView(bytes.buffer);
    const slot = (table: number, i: number) => {
      const vtable = table - v.getInt32(table, true);
      return { at: vtable + 4 + 2 * i, off: 4 + 2 * i < v.getUint16(vtable, true) ? v.getUint16(vtable + 4 + 2 * i, true) : 0 };
    };
    let pos = 8;
    while (v.getUint32(pos, true) !== 0xffffffff) pos += 8; // lance pads after the magic
    let patched = 0;
    while (pos + 8 <= bytes.length && v.getUint32(pos, true) === 0xffffffff && v.getInt32(pos + 4, true) > 0) {
      const len = v.getInt32(pos + 4, true);
      const root = pos + 8 + v.getUint32(pos + 8, true);
      const type = slot(root, 1);
      const body = slot(root, 3);
      if (type.off && v.getUint8(root + type.off) === 3) {
        v.setUint16(slot(root, 2).at, 0, true);
        patched++;
      }
      pos += 8 + len + Number(body.off ? v.getBigInt64(root + body.off, true) : 0n);
    }
    expect(patched).toBe(1);
    expect(() => arrowIpcRowCount(bytes)).toThrow('record batch message without header');
  });

  it('refuses a roaring bitmap whose container count exceeds the file', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, 12346, true);
    new DataView(bytes.buffer).setUint32(4, 60_000, true);
    expect(() => roaringCardinality(bytes)).toThrow(/truncated in the container headers/);
  });

  it('refuses data files whose footer points outside the file', async () => {
    const dir = datasetWithManifest(manifestFileBytes(encodeManifest(oneFragment({ physicalRows: undefined }))));
    fs.mkdirSync(path.join(dir, 'data'));
    const bytes = new Uint8Array(64);
    const v = new DataView(bytes.buffer);
    v.setBigUint64(64 - 40 + 16, 1n << 40n, true); // global buffer table far past the end
    v.setUint32(64 - 40 + 24, 1, true);
    v.setUint16(64 - 8, 2, true);
    v.setUint16(64 - 6, 1, true);
    bytes.set([0x4c, 0x41, 0x4e, 0x43], 60);
    fs.writeFileSync(path.join(dir, 'data', 'a.lance'), bytes);
    await expectFailure(dir, 'CORRUPT_FILE', /data\/a\.lance: malformed 2\.1 data file footer: global buffer table/);
    fs.writeFileSync(path.join(dir, 'data', 'a.lance'), bytes.subarray(0, 60));
    await expectFailure(dir, 'CORRUPT_FILE', /data\/a\.lance: not a Lance data file/);
  });
});

describe('directories that are not Lance datasets', () => {
  it('says so when there is no manifest', async () => {
    const dir = path.join(tmp, 'not-lance');
    fs.mkdirSync(dir);
    await expectFailure(dir, 'NOT_FOUND', /not a Lance dataset/);
  });

  it('ignores files in _versions that are not manifests of the table', async () => {
    const dir = path.join(tmp, 'odd-names');
    writeManifest(dir, oneFragment());
    fs.writeFileSync(path.join(dir, '_versions', 'd7.manifest'), 'detached');
    fs.writeFileSync(path.join(dir, '_versions', 'latest_version_hint.json'), '{"version": 9}');
    fs.writeFileSync(path.join(dir, '_versions', '.tmp_3.manifest_abc'), 'staging');
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.tableVersion).toBe('1');
    expect(snap.warnings?.join('\n')).toMatch(/d7\.manifest is not a version of the table/);
  });
});
