// lance-table scanner on manifests the current writer no longer produces: missing counts, naming
// schemes of old releases, schema types, and reuse of the previous snapshot's counts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanceScanner } from '../scanners/lance/index.js';
import { LakemapError } from '../src/scanner.js';
import type { JsonObject, TableEntry } from '../src/scanner.js';
import { LocalStorage } from '../src/storage/local.js';
import { writeEventsTable } from '../fixtures/lance/lancedb-tables.js';
import { encodeManifest, manifestFileBytes, v2ManifestName, writeManifest } from '../fixtures/lance/manifest-writer.js';
import type { SyntheticManifest } from '../fixtures/lance/manifest-writer.js';
import { snapshotLocalTable } from './helpers/scan.js';

let tmp: string;
let real: string; // a lancedb dataset whose data and deletion files the synthetic manifests point at
let files: { data: string[]; arrowDel: string; binDel: string };

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-syn-'));
  real = (await writeEventsTable(path.join(tmp, 'db'))).datasetDir;
  const dels = fs.readdirSync(path.join(real, '_deletions'));
  files = {
    data: fs.readdirSync(path.join(real, 'data')),
    arrowDel: dels.find((d) => d.endsWith('.arrow'))!,
    binDel: dels.find((d) => d.endsWith('.bin'))!,
  };
}, 60_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let caseNo = 0;
/** A dataset dir holding copies of the real data and deletion files. */
function copyOfRealFiles(): string {
  const dir = path.join(tmp, `case-${caseNo++}`);
  fs.cpSync(path.join(real, 'data'), path.join(dir, 'data'), { recursive: true });
  fs.cpSync(path.join(real, '_deletions'), path.join(dir, '_deletions'), { recursive: true });
  return dir;
}

/** `_deletions/{frag}-{readVersion}-{id}.ext` → its parts. */
function deletionParts(name: string): { frag: number; readVersion: number; id: bigint } {
  const [frag, rv, id] = name.replace(/\.(arrow|bin)$/, '').split('-');
  return { frag: Number(frag), readVersion: Number(rv), id: BigInt(id!) };
}

const ID_FIELD = [{ name: 'id', id: 0, logicalType: 'int64' }];

/** Fragments over the real files with nothing but ids and paths recorded, as Lance 0.5–0.7 wrote them. */
function oldWriterManifest(): SyntheticManifest {
  const arrow = deletionParts(files.arrowDel);
  const bin = deletionParts(files.binDel);
  // Real physical rows per data file are looked up by the scanner; sizes of the 3 files identify them.
  const sorted = [...files.data].sort((a, b) => fs.statSync(path.join(real, 'data', a)).size - fs.statSync(path.join(real, 'data', b)).size);
  const [small, medium, large] = sorted as [string, string, string]; // 50, 100 and 20,000 rows
  return {
    version: 1,
    fields: ID_FIELD,
    fragments: [
      { id: arrow.frag, files: [{ path: medium }], deletion: { type: 'arrow', readVersion: arrow.readVersion, id: arrow.id } },
      { id: 1, files: [{ path: small }] },
      { id: bin.frag, files: [{ path: large }], deletion: { type: 'bitmap', readVersion: bin.readVersion, id: bin.id } },
    ],
  };
}

const d = (e: TableEntry): JsonObject => e.details as JsonObject;

describe('manifests that lack counts', () => {
  it('reads physical rows from data-file footers and deletes from deletion files', async () => {
    const dir = copyOfRealFiles();
    writeManifest(dir, oldWriterManifest());
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.entries.map((e) => [e.rows, e.liveRows])).toEqual([[100, 90], [50, 50], [20_000, 2_000]]);
    expect(snap.entries.map((e) => d(e)['countsFrom'])).toEqual([
      { physicalRows: 'data-file', deletedRows: 'deletion-file' },
      { physicalRows: 'data-file', deletedRows: 'none' },
      { physicalRows: 'data-file', deletedRows: 'deletion-file' },
    ]);
    for (const e of snap.entries) expect(e.sizeBytes).toBe(fs.statSync(path.join(dir, e.path)).size); // stat when unrecorded
    expect(snap.details?.['countsRecomputed']).toBe(true);
  });

  it('distrusts recorded counts of a manifest without writer version and warns where they were wrong', async () => {
    const dir = copyOfRealFiles();
    const m = oldWriterManifest();
    // The v0.8.0 migration bug: live rows stored as physical rows.
    m.fragments[0]!.physicalRows = 90;
    m.fragments[0]!.deletion!.deletedRows = 10;
    m.fragments[1]!.physicalRows = 50;
    writeManifest(dir, m);
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.entries[0]!.rows).toBe(100);
    expect(snap.entries[0]!.liveRows).toBe(90);
    expect(snap.entries[0]!.warnings?.join()).toMatch(/records 90 physical rows but data\/.* holds 100/);
    expect(snap.warnings?.join()).toMatch(/no writer version/);
  });

  it('trusts recorded counts of a manifest with a writer version, reading nothing else', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`); // no data or deletion files at all
    const m = oldWriterManifest();
    m.writerVersion = { library: 'lance', version: '0.20.0' };
    m.fragments.forEach((f, i) => {
      f.physicalRows = [100, 50, 20_000][i]!;
      f.files[0]!.sizeBytes = 1000;
      if (f.deletion) f.deletion.deletedRows = i === 0 ? 10 : 18_000;
    });
    writeManifest(dir, m);
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.entries.map((e) => e.liveRows)).toEqual([90, 50, 2_000]);
  });

  it('reuses the previous snapshot for fragments it would otherwise have to read', async () => {
    const dir = copyOfRealFiles();
    writeManifest(dir, oldWriterManifest());
    const first = await snapshotLocalTable(lanceScanner, dir);
    fs.rmSync(path.join(dir, 'data'), { recursive: true }); // any read now fails
    fs.rmSync(path.join(dir, '_deletions'), { recursive: true });
    const storage = new LocalStorage(dir);
    const previous = { tableVersion: first.tableVersion, entries: new Map(first.entries.map((e) => [e.fingerprint, e])) };
    const ctx = { spec: { format: 'lance-table' }, signal: new AbortController().signal, progress: () => {}, previous };
    const again = await lanceScanner.snapshot(storage, ctx);
    expect(again.entries.map((e) => e.liveRows)).toEqual([90, 50, 2_000]);
    await expect(snapshotLocalTable(lanceScanner, dir)).rejects.toThrow(/does not exist|not found/);
  });
});

describe('version naming', () => {
  const v = (n: number): SyntheticManifest => ({ version: n, fields: ID_FIELD, fragments: [], writerVersion: { library: 'lance', version: '0.1.0' } });

  it('reads V1 names numerically (10 is newer than 9)', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    for (const n of [1, 2, 9, 10]) writeManifest(dir, v(n));
    expect((await snapshotLocalTable(lanceScanner, dir)).tableVersion).toBe('10');
  });

  it('reads V2 names as u64::MAX minus the version, also mixed with V1 names mid-migration', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    writeManifest(dir, v(1));
    writeManifest(dir, v(2), v2ManifestName(2));
    writeManifest(dir, v(3), v2ManifestName(3));
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.tableVersion).toBe('3');
    expect(snap.details?.['manifestNaming']).toBe('v2');
    expect((await snapshotLocalTable(lanceScanner, dir, { version: 1 })).details?.['manifestNaming']).toBe('v1');
  });

  it('falls back to _latest.manifest when _versions holds none, checking a requested version', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    writeManifest(dir, v(4));
    fs.renameSync(path.join(dir, '_versions', '4.manifest'), path.join(dir, '_latest.manifest'));
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.tableVersion).toBe('4');
    expect(snap.details?.['manifestNaming']).toBe('latest-manifest');
    const err = await snapshotLocalTable(lanceScanner, dir, { version: 2 }).catch((e: unknown) => e);
    expect(LakemapError.is(err, 'VERSION_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toMatch(/no version 2; available: 4/);
  });

  it('prefers _versions over a stale _latest.manifest', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    writeManifest(dir, v(1));
    writeManifest(dir, v(2));
    fs.copyFileSync(path.join(dir, '_versions', '1.manifest'), path.join(dir, '_latest.manifest'));
    expect((await snapshotLocalTable(lanceScanner, dir)).tableVersion).toBe('2');
  });
});

describe('writer version', () => {
  /** A manifest with no fragments whose writer_version message holds `fields` (number → string). */
  const withWriter = (fields: Record<number, string>): string => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    const wv = Object.entries(fields).flatMap(([no, text]) => [(Number(no) << 3) | 2, text.length, ...Buffer.from(text)]);
    const msg = Uint8Array.from([...encodeManifest({ version: 1, fields: ID_FIELD, fragments: [] }), (13 << 3) | 2, wv.length, ...wv]);
    fs.mkdirSync(path.join(dir, '_versions'), { recursive: true });
    fs.writeFileSync(path.join(dir, '_versions', '1.manifest'), manifestFileBytes(msg));
    return dir;
  };

  it('reads library and version, adding the prerelease when one is recorded; a missing field is empty', async () => {
    const cases: [Record<number, string>, { library: string; version: string }][] = [
      [{ 1: 'lance', 2: '0.20.0' }, { library: 'lance', version: '0.20.0' }],
      [{ 1: 'lance', 2: '0.20.0', 3: 'beta.2' }, { library: 'lance', version: '0.20.0-beta.2' }],
      [{ 2: '1.2.3' }, { library: '', version: '1.2.3' }], // proto3 writers leave empty strings out
      [{ 1: 'pylance' }, { library: 'pylance', version: '' }],
    ];
    for (const [fields, expected] of cases) {
      expect((await snapshotLocalTable(lanceScanner, withWriter(fields))).details?.['writerVersion'], JSON.stringify(fields)).toStrictEqual(expected);
    }
  });

  it('shows the writer version lancedb recorded: the lance library, a release without prerelease', async () => {
    const snap = await snapshotLocalTable(lanceScanner, real);
    expect(snap.details?.['writerVersion']).toStrictEqual({ library: 'lance', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });
});

describe('schema types', () => {
  it('maps nested, temporal, decimal, dictionary and vector types', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    writeManifest(dir, {
      version: 1,
      writerVersion: { library: 'lance', version: '0.30.0' },
      fragments: [],
      fields: [
        { name: 's', id: 0, logicalType: 'struct' },
        { name: 'a', id: 1, parentId: 0, logicalType: 'int32' },
        { name: 'tags', id: 2, parentId: 0, logicalType: 'list' },
        { name: 'item', id: 3, parentId: 2, logicalType: 'string' },
        { name: 'ts', id: 4, logicalType: 'timestamp:us:+05:30' },
        { name: 'ts2', id: 5, logicalType: 'timestamp:ns:-' },
        { name: 'price', id: 6, logicalType: 'decimal:128:10:2' },
        { name: 'cat', id: 7, logicalType: 'dict:string:int16:false' },
        { name: 'emb', id: 8, logicalType: 'fixed_size_list:lance.bfloat16:4' },
        { name: 'big', id: 9, logicalType: 'large_list' },
        { name: 'item', id: 10, parentId: 9, logicalType: 'double' },
        { name: 'odd', id: 11, logicalType: 'geometry:point' },
        { name: 'day', id: 12, logicalType: 'date32:day' },
        { name: 'hash', id: 13, logicalType: 'fixed_size_binary:16' },
      ],
    });
    const snap = await snapshotLocalTable(lanceScanner, dir);
    expect(snap.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      's:Struct<{a:Int32, tags:List<Utf8>}>',
      'ts:Timestamp<MICROSECOND, +05:30>',
      'ts2:Timestamp<NANOSECOND>',
      'price:Decimal[10e+2]', // apache-arrow's notation for precision 10, scale 2
      'cat:Dictionary<Int16, Utf8>',
      'emb:FixedSizeList[4]<FixedSizeBinary[2]>',
      'big:List<Float64>',
      'odd:Null',
      'day:Date32<DAY>',
      'hash:FixedSizeBinary[16]',
    ]);
    expect(snap.schema.fields[3]!.type).toMatchObject({ precision: 10, scale: 2, bitWidth: 128 });
    expect(snap.schema.fields[6]!.metadata.get('lance:logical_type')).toBe('large_list');
    expect(snap.warnings?.join()).toMatch(/column "odd" has Lance type "geometry:point"/);
  });

  it('refuses a field whose parent id no earlier field has', async () => {
    const dir = path.join(tmp, `case-${caseNo++}`);
    writeManifest(dir, { version: 1, fragments: [], fields: [{ name: 'x', id: 1, parentId: 7, logicalType: 'int64' }] });
    const err = await snapshotLocalTable(lanceScanner, dir).catch((e: unknown) => e);
    expect(LakemapError.is(err, 'CORRUPT_FILE')).toBe(true);
    expect((err as Error).message).toMatch(/schema cannot be read: field "x" \(id 1\) names parent id 7/);
  });
});
