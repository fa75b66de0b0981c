// lance-table scanner against datasets written by the real writer (lancedb 0.31.0 / Lance 8.0).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType } from 'apache-arrow';
import { lanceScanner } from '../scanners/lance/index.js';
import { readDataFileFooter } from '../scanners/lance/data-file.js';
import { countDeletedRows } from '../scanners/lance/deletions.js';
import { readManifestFile } from '../scanners/lance/manifest-file.js';
import { LakemapError } from '../src/scanner.js';
import type { JsonObject, TableEntry } from '../src/scanner.js';
import { LocalStorage } from '../src/storage/local.js';
import { VECTOR_DIM, writeEmptyTable, writeEventsTable } from '../fixtures/lance/lancedb-tables.js';
import type { WrittenTable } from '../fixtures/lance/lancedb-tables.js';
import { snapshotLocalTable } from './helpers/scan.js';

let tmp: string;
let events: WrittenTable;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-'));
  events = await writeEventsTable(path.join(tmp, 'db'));
}, 60_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const details = (e: TableEntry): JsonObject => e.details as JsonObject;

describe('versions written by lancedb', () => {
  it('maps every version with the live row count lancedb reports', async () => {
    const versions = (await events.table.listVersions()).map((v) => v.version);
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    for (const v of versions) {
      const snap = await snapshotLocalTable(lanceScanner, events.datasetDir, { version: v });
      await events.table.checkout(v);
      const live = snap.entries.reduce((n, e) => n + (e.liveRows ?? e.rows), 0);
      expect(snap.tableVersion).toBe(String(v));
      expect(live).toBe(await events.table.countRows());
    }
    await events.table.checkoutLatest();
  });

  it('agrees with lancedb on physical and deleted rows and fragment count per version', async () => {
    for (const info of await events.table.listVersions()) {
      const snap = await snapshotLocalTable(lanceScanner, events.datasetDir, { version: info.version });
      const physical = snap.entries.reduce((n, e) => n + e.rows, 0);
      const deleted = snap.entries.reduce((n, e) => n + Number(details(e)['deletedRows']), 0);
      expect(physical).toBe(Number(info.metadata['total_data_file_rows']));
      expect(deleted).toBe(Number(info.metadata['total_deletion_file_rows']));
      expect(snap.entries.length).toBe(Number(info.metadata['total_fragments']));
      expect(snap.entries.filter((e) => details(e)['deletionFile'] !== null).length).toBe(Number(info.metadata['total_deletion_files']));
    }
  });

  it('sums physical, deleted and live rows over the fragments in the table details, as lancedb counts them', async () => {
    for (const info of await events.table.listVersions()) {
      const snap = await snapshotLocalTable(lanceScanner, events.datasetDir, { version: info.version });
      await events.table.checkout(info.version);
      expect(snap.details).toMatchObject({
        fragmentCount: Number(info.metadata['total_fragments']),
        physicalRows: Number(info.metadata['total_data_file_rows']),
        deletedRows: Number(info.metadata['total_deletion_file_rows']),
        liveRows: await events.table.countRows(),
      });
    }
    await events.table.checkoutLatest();
  });

  it('matches the fragment lengths lancedb reports for the latest version', async () => {
    const stats = await events.table.stats();
    const snap = await snapshotLocalTable(lanceScanner, events.datasetDir);
    const physical = snap.entries.map((e) => e.rows); // lancedb's fragment lengths count physical rows
    expect(snap.entries.length).toBe(stats.fragmentStats.numFragments);
    expect(Math.min(...physical)).toBe(stats.fragmentStats.lengths.min);
    expect(Math.max(...physical)).toBe(stats.fragmentStats.lengths.max);
    expect(snap.entries.reduce((n, e) => n + (e.liveRows ?? e.rows), 0)).toBe(stats.numRows);
  });

  it('maps the newest version by default, found through V2 (inverted) manifest names', async () => {
    const snap = await snapshotLocalTable(lanceScanner, events.datasetDir);
    expect(snap.tableVersion).toBe('5');
    expect(snap.details?.['manifestNaming']).toBe('v2');
    expect(snap.details?.['manifestPath']).toBe('_versions/18446744073709551610.manifest');
  });

  it('refuses a version that does not exist, listing the available ones', async () => {
    const err = await snapshotLocalTable(lanceScanner, events.datasetDir, { version: 9 }).catch((e: unknown) => e);
    expect(LakemapError.is(err, 'VERSION_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('no version 9');
    expect((err as Error).message).toContain('available: 1, 2, 3, 4, 5');
  });

  it('rejects a version spec that is not a positive integer', () => {
    for (const version of [0, -1, 1.5, 'latest', true]) {
      expect(() => lanceScanner.validateSpec!({ format: 'lance-table', version })).toThrow(/positive integer/);
    }
    expect(() => lanceScanner.validateSpec!({ format: 'lance-table', version: '3' })).not.toThrow();
  });
});

describe('fragments as entries', () => {
  it('records per fragment physical, deleted and live rows, data files and deletion file', async () => {
    const snap = await snapshotLocalTable(lanceScanner, events.datasetDir, { version: 5 });
    expect(snap.entries.map((e) => [e.rows, e.liveRows])).toEqual([[100, 90], [50, 50], [20_000, 2_000]]);
    const [f0, f1, f2] = snap.entries.map(details);
    expect(f0).toMatchObject({ fragmentId: 0, physicalRows: 100, deletedRows: 10, liveRows: 90 });
    expect(f0!['deletionFile']).toMatchObject({ type: 'arrow', readVersion: '2', deletedRows: 10 });
    expect(f1!['deletionFile']).toBeNull();
    expect(f2!['deletionFile']).toMatchObject({ type: 'bitmap', readVersion: '4', deletedRows: 18_000 });
    for (const e of snap.entries) {
      const d = details(e);
      const del = d['deletionFile'] as JsonObject | null;
      if (del) expect(fs.existsSync(path.join(events.datasetDir, String(del['path'])))).toBe(true);
      const files = d['dataFiles'] as JsonObject[];
      expect(files).toHaveLength(1);
      expect(e.path).toBe(files[0]!['path']);
      expect(e.sizeBytes).toBe(fs.statSync(path.join(events.datasetDir, e.path)).size);
      expect(e.units).toEqual([{ rows: e.rows, byteSize: e.sizeBytes, details: { fragmentId: d['fragmentId'] } }]);
      expect(e.liveRowsExact).toBe(true);
    }
  });

  it('keeps the fingerprints of untouched fragments across an append and changes them on a delete', async () => {
    const fp = async (v: number): Promise<string[]> =>
      (await snapshotLocalTable(lanceScanner, events.datasetDir, { version: v })).entries.map((e) => e.fingerprint);
    const [v1, v2, v3, v4, v5] = [await fp(1), await fp(2), await fp(3), await fp(4), await fp(5)];
    expect(v2.slice(0, 1)).toEqual(v1); // append: fragment 0 untouched
    expect(v3[0]).not.toBe(v2[0]); // delete added a deletion file to fragment 0
    expect(v3[1]).toBe(v2[1]);
    expect(v4.slice(0, 2)).toEqual(v3);
    expect(v5.slice(0, 2)).toEqual(v4.slice(0, 2));
    expect(v5[2]).not.toBe(v4[2]);
    expect(new Set(v5).size).toBe(3);
  });
});

describe('schema', () => {
  it('maps the Lance schema to Arrow, with the vector as a fixed-size list of float32', async () => {
    const snap = await snapshotLocalTable(lanceScanner, events.datasetDir);
    expect(snap.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['id', 'Int64', false],
      ['name', 'Utf8', true],
      ['vec', `FixedSizeList[${VECTOR_DIM}]<Float32>`, true],
    ]);
    const vec = snap.schema.fields[2]!;
    expect(DataType.isFixedSizeList(vec.type)).toBe(true);
    expect(vec.metadata.get('lance:field_id')).toBe('2');
    const lancedbSchema = await events.table.schema();
    expect(snap.schema.fields.map((f) => String(f.type))).toEqual(lancedbSchema.fields.map((f) => String(f.type)));
  });
});

describe('an empty table', () => {
  it('maps to a version with the schema and no entries', async () => {
    const empty = await writeEmptyTable(path.join(tmp, 'empty-db'));
    const snap = await snapshotLocalTable(lanceScanner, empty.datasetDir);
    expect(snap.tableVersion).toBe('1');
    expect(snap.entries).toEqual([]);
    expect(snap.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'vec']);
    expect(await empty.table.countRows()).toBe(0);
  });
});

describe('fallback readers on the real files', () => {
  it('count deleted rows from the .arrow (zstd) and .bin (roaring) deletion files as the manifest records them', async () => {
    const storage = new LocalStorage(events.datasetDir);
    const manifest = await readManifestFile(storage, '_versions/18446744073709551610.manifest');
    const withDeletes = manifest.fragments.filter((f) => f.deletionFile);
    expect(withDeletes.map((f) => f.deletionFile!.fileType)).toEqual(['arrow', 'bitmap']);
    for (const f of withDeletes) {
      expect(await countDeletedRows(storage, f.id, f.deletionFile!)).toBe(f.deletionFile!.numDeletedRows);
    }
  });

  it('read physical rows from v2.1 data-file footers as the manifest records them', async () => {
    const storage = new LocalStorage(events.datasetDir);
    const manifest = await readManifestFile(storage, '_versions/18446744073709551610.manifest');
    for (const f of manifest.fragments) {
      const footer = await readDataFileFooter(storage, `data/${f.files[0]!.path}`);
      expect(footer).toMatchObject({ rows: f.physicalRows, formatVersion: '2.1', size: f.files[0]!.fileSizeBytes });
    }
  });
});
