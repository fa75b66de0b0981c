// Iceberg edge cases from real-world tables (issue 11): non-data manifest entries, what pins a position
// delete to its data file, data files beside the table, zstd manifests, branches and tags.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LakemapError, type TableSnapshot } from '../src/scanner.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { filePathBounds } from '../scanners/iceberg/delete-footer.js';
import { zstdUncompress } from '../scanners/iceberg/zstd.js';
import { zstdRawFrame } from '../fixtures/iceberg/avro-writer.js';
import { writeFixtureTable, type FixtureFile, type FixtureTable } from '../fixtures/iceberg/table-writer.js';
import { schemaV0, schemaV1, SNAP1, SNAP2 } from '../fixtures/iceberg/sample-tables.js';
import { sqlString, withDuckDB } from '../fixtures/parquet/duckdb.js';
import { snapshotLocalTable } from './helpers/scan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-edge-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function table(t: FixtureTable, sub = ''): string {
  const dir = path.join(tmp, `t${n++}`, sub);
  fs.mkdirSync(dir, { recursive: true });
  writeFixtureTable(dir, t);
  return dir;
}
const LOCATION = 's3://warehouse/db/t';
const oneSnapshot = (files: FixtureFile[][], extra: Partial<FixtureTable> = {}): FixtureTable => ({
  schemas: [schemaV0],
  snapshots: [{ id: 5n, timestampMs: 10, sequenceNumber: 1n, manifests: files }],
  ...extra,
});
async function failure(p: Promise<unknown>): Promise<LakemapError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(LakemapError);
  return e as LakemapError;
}
const entry = (s: TableSnapshot, p: string) => s.entries.find((e) => e.path === p)!;

/** Writes a real position delete file with DuckDB: rows (file_path, pos). */
async function writePositionDeletes(file: string, rows: [string, number][]): Promise<void> {
  const values = rows.map(([p, pos]) => `(${sqlString(p)}, ${pos}::BIGINT)`).join(', ');
  await withDuckDB(async (con) => {
    await con.run(`COPY (SELECT * FROM (VALUES ${values}) AS t(file_path, pos) ORDER BY file_path, pos) TO ${sqlString(file)} (FORMAT parquet)`);
  });
}

describe('entries that are not data files', () => {
  it('skips a PUFFIN entry of a data manifest (absent on disk) with a warning naming it; its record_count is not counted', async () => {
    const dir = table(oneSnapshot([[
      { path: 'data/a.parquet', records: 10 },
      { path: 'data/hash-index.puffin', records: 2, size: 0, fileFormat: 'PUFFIN' },
    ]], { writeData: true }));
    fs.rmSync(path.join(dir, 'data/hash-index.puffin'));
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries.map((e) => [e.path, e.rows])).toEqual([['data/a.parquet', 10]]);
    expect(s.warnings).toContainEqual(expect.stringMatching(/s3:\/\/warehouse\/db\/t\/data\/hash-index\.puffin is a PUFFIN file, not a data file .* record_count 2 not counted/));
  });
});

describe('what pins a position delete file to its data file', () => {
  const a = { path: 'data/a.parquet', records: 10 };
  const b = { path: 'data/b.parquet', records: 20 };
  const pos = (extra: Partial<FixtureFile> = {}): FixtureFile => ({ path: 'data/pos.parquet', records: 3, content: 1, ...extra });
  const boundsNaming = (p: string) => ({ lowerBounds: { 2147483546: Buffer.from(p) }, upperBounds: { 2147483546: Buffer.from(p) } });

  it('referenced_data_file: exact', async () => {
    const s = await snapshotLocalTable(icebergScanner, table(oneSnapshot([[a, b], [pos({ referencedDataFile: a.path })]])));
    expect([entry(s, a.path).liveRows, entry(s, a.path).liveRowsExact]).toEqual([7, true]);
    expect(entry(s, b.path).liveRows).toBeUndefined();
  });

  it('the delete file\'s own footer (file_path min = max): exact, without any bounds', async () => {
    const dir = table(oneSnapshot([[a, b], [pos()]]));
    await writePositionDeletes(path.join(dir, 'data/pos.parquet'), [[`${LOCATION}/data/a.parquet`, 1], [`${LOCATION}/data/a.parquet`, 4], [`${LOCATION}/data/a.parquet`, 7]]);
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect([entry(s, a.path).liveRows, entry(s, a.path).liveRowsExact]).toEqual([7, true]);
    expect((entry(s, a.path).details!['deletes'] as object[])[0]).toMatchObject({ kind: 'position', pinnedBy: 'footer' });
    expect(entry(s, b.path).liveRows).toBeUndefined();
    expect(s.warnings ?? []).toEqual([]);
  });

  it('a moved table: bounds name a data file but the footer names none of them, so nothing is subtracted (as DuckDB)', async () => {
    const dir = table(oneSnapshot([[a, b], [pos(boundsNaming(`${LOCATION}/data/a.parquet`))]]));
    await writePositionDeletes(path.join(dir, 'data/pos.parquet'), [['s3://old-bucket/t/data/a.parquet', 1], ['s3://old-bucket/t/data/a.parquet', 2], ['s3://old-bucket/t/data/a.parquet', 3]]);
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries.map((e) => [e.path, e.liveRows ?? e.rows, e.liveRowsExact ?? true])).toEqual([[a.path, 10, true], [b.path, 20, true]]);
    expect(s.warnings).toContainEqual(expect.stringMatching(/data\/pos\.parquet: its file_path column names only s3:\/\/old-bucket\/t\/data\/a\.parquet .* deletes nothing/));
  });

  it('bounds alone (footer unreadable): a hint only, never subtracted; live rows an upper bound, with a warning', async () => {
    const dir = table(oneSnapshot([[a, b], [pos(boundsNaming(`${LOCATION}/data/a.parquet`))]])); // data/pos.parquet is a placeholder, not parquet
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect([entry(s, a.path).liveRows, entry(s, a.path).liveRowsExact]).toEqual([10, false]);
    expect(entry(s, b.path).liveRows).toBeUndefined();
    expect(s.warnings).toContainEqual(expect.stringMatching(/nothing pins position delete file data\/pos\.parquet .*not a plain parquet file.*bounds name s3:\/\/warehouse\/db\/t\/data\/a\.parquet, a hint only.*not subtracted.*data\/a\.parquet are upper bounds/));
  });

  it('a delete file of many row groups (DuckDB, 2,048 rows each): its footer still pins it, exactly', async () => {
    const big = { path: 'data/big.parquet', records: 200_000 };
    const dir = table(oneSnapshot([[big, b], [pos({ records: 100_000 })]]));
    await withDuckDB(async (con) => {
      await con.run(`COPY (SELECT ${sqlString(`${LOCATION}/data/big.parquet`)} AS file_path, i::BIGINT AS pos FROM range(100000) t(i)) TO ${sqlString(path.join(dir, 'data/pos.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    });
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect([entry(s, big.path).liveRows, entry(s, big.path).liveRowsExact]).toEqual([100_000, true]);
    expect((entry(s, big.path).details!['deletes'] as object[])[0]).toMatchObject({ pinnedBy: 'footer' });
  });

  it('a footer whose row_groups field (4) is not a list: no file_path column, not a misread', () => {
    // Thrift compact: field 4 as an i32 (header 0x45) holding 14 (zigzag 0x1c), then stop. 0x1c read as a
    // list header would be one struct element, which the bytes do not hold.
    expect(filePathBounds(Uint8Array.from([0x45, 0x1c, 0x00]))).toEqual({ kind: 'unknown', reason: 'its footer has no file_path column' });
  });

  it('a footer spanning several data files: each one\'s live rows an upper bound, with a warning', async () => {
    const dir = table(oneSnapshot([[a, b], [pos()]]));
    await writePositionDeletes(path.join(dir, 'data/pos.parquet'), [[`${LOCATION}/data/a.parquet`, 1], [`${LOCATION}/data/b.parquet`, 2], [`${LOCATION}/data/b.parquet`, 3]]);
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries.map((e) => [e.path, e.liveRows, e.liveRowsExact])).toEqual([[a.path, 10, false], [b.path, 20, false]]);
    expect(s.warnings).toContainEqual(expect.stringMatching(/holds deletes for several data files .* the 2 it may touch are upper bounds/));
  });
});

describe('deletes that touch no data file, and the order deletes are listed in', () => {
  const a = { path: 'data/a.parquet', records: 10 };

  it('a position delete file older than every data file it could apply to touches nothing and warns nothing', async () => {
    // Sequence numbers: the data file 2, the delete 1 (a delete applies to data written at or before it).
    const s = await snapshotLocalTable(icebergScanner, table(oneSnapshot([[{ ...a, sequenceNumber: 2n }], [{ path: 'data/pos.parquet', records: 3, content: 1, sequenceNumber: 1n }]])));
    expect(s.entries.map((e) => [e.path, e.liveRows, e.details!['deletes']])).toEqual([[a.path, undefined, []]]);
    expect(s.warnings ?? []).toEqual([]);
  });

  it("a data file's fingerprint names its deletes, not the order the manifests list them in", async () => {
    const eq = { path: 'data/eq.parquet', records: 1, content: 2 as const, equalityIds: [1], sequenceNumber: 2n }; // applies to older data only
    const pos = { path: 'data/pos.parquet', records: 3, content: 1 as const, referencedDataFile: a.path };
    const [one, other] = [await snapshotLocalTable(icebergScanner, table(oneSnapshot([[a], [eq, pos]]))), await snapshotLocalTable(icebergScanner, table(oneSnapshot([[a], [pos, eq]])))];
    const paths = (s: TableSnapshot) => (entry(s, a.path).details!['deletes'] as { path: string }[]).map((d) => d.path);
    expect([paths(one), paths(other)]).toEqual([['data/eq.parquet', 'data/pos.parquet'], ['data/pos.parquet', 'data/eq.parquet']]);
    expect(entry(one, a.path).fingerprint).toBe(entry(other, a.path).fingerprint);
    // …and a different set of deletes is a different fingerprint.
    const alone = await snapshotLocalTable(icebergScanner, table(oneSnapshot([[a], [pos]])));
    expect(entry(alone, a.path).fingerprint).not.toBe(entry(one, a.path).fingerprint);
  });
});

describe('data files beside the table folder', () => {
  // <root>/wh/db/t is the table; <root>/wh/db/other/x.parquet was added with add_files.
  const make = (): string => {
    const root = path.join(tmp, `beside${n++}`);
    const dir = path.join(root, 'wh/db/t');
    fs.mkdirSync(dir, { recursive: true });
    writeFixtureTable(dir, oneSnapshot([[
      { path: 'data/a.parquet', records: 10 },
      { path: '../other/x.parquet', writtenPath: 's3://warehouse/db/other/x.parquet', records: 4 },
    ]], { location: LOCATION }));
    return root;
  };

  it('refuses a data file outside the source with PATH_ESCAPE naming the table_path option', async () => {
    const root = make();
    const e = await failure(snapshotLocalTable(icebergScanner, path.join(root, 'wh/db/t')));
    expect(e.code).toBe('PATH_ESCAPE');
    expect(e.message).toMatch(/data file s3:\/\/warehouse\/db\/other\/x\.parquet lies outside the table folder \(1 folder above it, at <table>\/\.\.\/other\/x\.parquet\).*spec key table_path.*or give the source as volume:\/\/<name>\/<path to the table> of an engine volume whose directory holds both$/);
  });

  it('maps it when the source holds both and table_path names the table', async () => {
    const root = make();
    for (const [source, tablePath] of [['wh/db', 't'], ['wh', 'db/t'], ['', 'wh/db/t']] as const) {
      const s = await snapshotLocalTable(icebergScanner, path.join(root, source), { table_path: tablePath });
      const prefix = tablePath.split('/').slice(0, -1).join('/');
      const rel = (p: string) => (prefix ? `${prefix}/${p}` : p);
      expect(s.entries.map((e) => [e.path, e.rows])).toEqual([[`${tablePath}/data/a.parquet`, 10], [rel('other/x.parquet'), 4]]);
      expect(s.details!['metadataFile']).toMatch(new RegExp(`^${tablePath}/metadata/`));
      for (const e of s.entries) expect(fs.existsSync(path.join(root, source, e.path))).toBe(true);
    }
  });

  it('still refuses a file further out than the source, and a table_path that leaves the source', async () => {
    const root = make();
    const dir = path.join(root, 'wh/db/t');
    const t = oneSnapshot([[{ path: 'data/a.parquet', records: 10 }, { path: '../../y.parquet', writtenPath: 's3://warehouse/y.parquet', records: 1 }]], { location: LOCATION });
    writeFixtureTable(dir, t);
    const e = await failure(snapshotLocalTable(icebergScanner, path.join(root, 'wh/db'), { table_path: 't' }));
    expect(e.code).toBe('PATH_ESCAPE');
    expect(e.message).toMatch(/s3:\/\/warehouse\/y\.parquet lies outside the table folder \(2 folders above it.*table_path "t"/);
    expect(e.message).toContain(`outside the source ${path.join(root, 'wh/db')} (table_path "t")`);
    // A table_path folder without metadata: the error names that folder inside the source.
    fs.mkdirSync(path.join(root, 'wh/db/empty'));
    const none = await failure(snapshotLocalTable(icebergScanner, path.join(root, 'wh/db'), { table_path: 'empty' }));
    expect([none.code, none.message]).toEqual(['NOT_FOUND', `no table metadata (metadata/*.metadata.json) under ${path.join(root, 'wh/db')}/empty; is this an Iceberg table directory?`]);
    for (const bad of ['../t', '/abs', 5]) {
      expect((await failure(snapshotLocalTable(icebergScanner, path.join(root, 'wh/db'), { table_path: bad }))).code).toBe('INVALID_SPEC');
    }
  });
});

describe('zstandard-compressed manifests', () => {
  const hasZstd = (() => {
    try {
      execFileSync('zstd', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasZstd) console.warn('zstd command missing (Debian package zstd): the real-compressor zstd manifest test is skipped; raw frames are still tested');

  it.skipIf(!hasZstd)('reads manifests and manifest lists compressed by the zstd command (needs Debian zstd)', async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ path: `data/f${i}.parquet`, records: i + 1 }));
    const dir = table(oneSnapshot([files], { codec: 'zstandard' }));
    const s = await snapshotLocalTable(icebergScanner, dir);
    expect(s.entries.length).toBe(300);
    expect(s.entries.reduce((x, e) => x + e.rows, 0)).toBe((300 * 301) / 2);
  });

  it('reads zstd frames of raw blocks (RFC 8878), and refuses corrupt or oversized ones', async () => {
    const s = await snapshotLocalTable(icebergScanner, table(oneSnapshot([[{ path: 'data/x.parquet', records: 3 }]], { codec: 'zstandard-raw' })));
    expect(s.entries.map((e) => e.rows)).toEqual([3]);
    const frame = zstdRawFrame(Buffer.alloc(1000, 7));
    expect(zstdUncompress(frame, 1000)).toEqual(new Uint8Array(1000).fill(7));
    expect(() => zstdUncompress(frame, 999)).toThrow(/^zstd output exceeds 999 bytes$/); // the budget's own error, not wrapped as a corrupt frame
    expect(() => zstdUncompress(frame.subarray(0, 20), 1000)).toThrow(/zstd/);
  });

  it('reports a corrupt zstd manifest as CORRUPT_FILE naming the file', async () => {
    const dir = table(oneSnapshot([[{ path: 'data/x.parquet', records: 3 }]], { codec: 'zstandard-raw' }));
    const manifest = path.join(dir, 'metadata/5-m0.avro');
    const bytes = fs.readFileSync(manifest);
    const at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 100);
    bytes[at] = 0; // break the frame magic
    fs.writeFileSync(manifest, bytes);
    const e = await failure(snapshotLocalTable(icebergScanner, dir));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/5-m0\.avro.*zstandard/);
  });
});

describe('branches and tags (ref)', () => {
  const refs = {
    main: { 'snapshot-id': SNAP2, type: 'branch' },
    audit: { 'snapshot-id': SNAP1, type: 'branch' },
    'v1.0': { 'snapshot-id': SNAP1, type: 'tag' },
  };
  const t: FixtureTable = {
    schemas: [schemaV0, schemaV1],
    snapshots: [
      { id: SNAP1, timestampMs: 1000, sequenceNumber: 1n, schemaId: 0, manifests: [[{ path: 'data/a.parquet', records: 10 }]] },
      { id: SNAP2, timestampMs: 2000, sequenceNumber: 2n, schemaId: 1, manifests: [[{ path: 'data/a.parquet', records: 10, status: 0, sequenceNumber: 1n }, { path: 'data/b.parquet', records: 5 }]] },
    ],
    extra: { refs },
  };
  const dir = table(t);

  it('maps the snapshot a tag names, with that snapshot\'s schema', async () => {
    const s = await snapshotLocalTable(icebergScanner, dir, { ref: 'v1.0' });
    expect(s.tableVersion).toBe(SNAP1.toString());
    expect(s.entries.map((e) => e.path)).toEqual(['data/a.parquet']);
    expect(s.schema.fields.map((f) => f.name)).toContain('name');
  });

  it('maps a branch\'s head with the table\'s current schema, and main as the current snapshot', async () => {
    const audit = await snapshotLocalTable(icebergScanner, dir, { ref: 'audit' });
    expect(audit.tableVersion).toBe(SNAP1.toString());
    expect(audit.schema.fields.map((f) => f.name)).toContain('full_name');
    expect((await snapshotLocalTable(icebergScanner, dir, { ref: 'main' })).tableVersion).toBe(SNAP2.toString());
  });

  it('takes main as the current snapshot of a table written without refs (v1), and knows no other ref there', async () => {
    const plain = table({ ...t, extra: {} });
    expect((await snapshotLocalTable(icebergScanner, plain, { ref: 'main' })).tableVersion).toBe(SNAP2.toString());
    expect((await failure(snapshotLocalTable(icebergScanner, plain, { ref: 'audit' }))).message).toMatch(/refs: none/);
  });

  it('refuses an unknown ref, listing the known ones, and a ref given with a snapshot id', async () => {
    const e = await failure(snapshotLocalTable(icebergScanner, dir, { ref: 'nope' }));
    expect(e.code).toBe('VERSION_NOT_FOUND');
    expect(e.message).toMatch(/ref "nope" is neither a branch nor a tag .*main \(branch\), audit \(branch\), v1\.0 \(tag\)/);
    expect((await failure(snapshotLocalTable(icebergScanner, dir, { ref: 'main', snapshot_id: SNAP1.toString() }))).code).toBe('INVALID_SPEC');
    expect((await failure(snapshotLocalTable(icebergScanner, dir, { ref: '' }))).code).toBe('INVALID_SPEC');
  });
});
