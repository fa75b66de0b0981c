// The per-file helpers a snapshot runs 10,000s of times, against the slower code they replace:
// dates as Date.toISOString writes them, URIs and prefixes as the regex forms gave them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { schemaV0 } from '../fixtures/iceberg/sample-tables.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { snapshotLocalTable } from './helpers/scan.js';
import { dataFileEntry } from '../scanners/iceberg/entries.js';
import { normalizeUri, TableRebaser } from '../scanners/iceberg/paths.js';
import type { SchemaColumn } from '../scanners/iceberg/schema.js';
import { toBigInt } from '../scanners/iceberg/table-metadata.js';
import type { ContentFile } from '../scanners/iceberg/types.js';
import { formatDate, jsonInt64 } from '../scanners/iceberg/values.js';
import type { SourceStorage } from '../src/scanner.js';

const viaDate = (days: number) => new Date(days * 86_400_000).toISOString().slice(0, 10);

describe('formatDate', () => {
  it('writes every day as Date.toISOString does, across leap years, centuries and the 4-digit years', () => {
    const days = [-719_529, -719_528, -719_527, 2_932_895, 2_932_896, 2_932_897, 11_016, 11_017, -141_428, 0.5, -0.5, 1e8, -1e8];
    for (let d = -800_000; d <= 3_000_000; d += 97) days.push(d);
    for (let d = -400; d <= 40_000; d++) days.push(d);
    expect(days.filter((d) => formatDate(d) !== viaDate(d))).toEqual([]);
    expect(formatDate(-719_528)).toBe('0000-01-01');
    expect(formatDate(2_932_896)).toBe('9999-12-31');
    expect(formatDate(-719_529)).toBe('-000001-12');
  });
});

describe('jsonInt64', () => {
  it('is a number inside the safe-integer range and a decimal string outside', () => {
    const max = 2n ** 53n - 1n;
    expect([max, -max, 0n, max + 1n, -max - 1n, 2n ** 63n - 1n].map(jsonInt64)).toEqual([
      Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, '9007199254740992', '-9007199254740992', '9223372036854775807']);
  });
});

describe('toBigInt (ids and sequence numbers in metadata JSON and manifests)', () => {
  it('reads bigints, safe integers and decimal strings exactly; anything else is undefined, never a throw', () => {
    expect([9n, 7, -7, '123', '-5', '9223372036854775807', '0'].map(toBigInt)).toEqual([9n, 7n, -7n, 123n, -5n, 9223372036854775807n, 0n]);
    expect(['12x', 'x12', 'abc', '', '-', '1.5', ' 1', 1.5, 2 ** 60, NaN, null, undefined, {}].map(toBigInt)).toEqual(Array(13).fill(undefined));
  });
});

describe('record counts and sizes of manifest entries', () => {
  it('take values up to 2^53 - 1 and refuse larger ones as CORRUPT_FILE', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-counts-'));
    try {
      const write = (records: number) => writeFixtureTable(dir, {
        schemas: [schemaV0], partitionFields: [],
        snapshots: [{ id: 1n, timestampMs: 1, sequenceNumber: 1n, manifests: [[{ path: 'data/a.parquet', records, size: 10 }]] }],
      });
      write(Number.MAX_SAFE_INTEGER);
      expect((await snapshotLocalTable(icebergScanner, dir)).entries[0]!.rows).toBe(Number.MAX_SAFE_INTEGER);
      fs.rmSync(path.join(dir, 'metadata'), { recursive: true });
      write(2 ** 53);
      await expect(snapshotLocalTable(icebergScanner, dir)).rejects.toThrow(/no valid record_count/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const regexUri = (uri: string) => {
  let u = uri.replace(/^s3[an]:\/\//, 's3://');
  if (u.startsWith('file://')) u = u.slice('file://'.length);
  else if (u.startsWith('file:/')) u = u.slice('file:'.length);
  return u.replace(/\/+$/, '');
};

describe('normalizeUri and byPrefix', () => {
  it('normalizes as the regex form did', () => {
    const cases = ['s3a://b/t/x.parquet', 's3n://b/t/', 's3://b/t//', 's3an://b/x', 's3ax://b', 'file:///tmp/t/x', 'file:/tmp/t/', 'file:x',
      '/abs/path//', 'rel/path', '', '/', 'S3A://b/t', 'gs://b/t/'];
    for (const c of cases) expect(normalizeUri(c), c).toBe(regexUri(c));
  });

  it('maps by prefix, refusing `..` segments but not names that contain dots', () => {
    const storage = { root: '/src' } as SourceStorage;
    const r = new TableRebaser(storage, 's3a://bucket/db/t');
    expect(r.byPrefix('s3://bucket/db/t/data/a..b.parquet')).toBe('data/a..b.parquet');
    expect(r.byPrefix('s3://bucket/db/t//data/x.parquet')).toBe('data/x.parquet');
    expect(r.byPrefix('s3://bucket/db/t///data/x.parquet')).toBe('data/x.parquet'); // any number of slashes
    expect(r.byPrefix('s3://bucket/db/t/data/../../x.parquet')).toBeUndefined();
    expect(r.byPrefix('s3://bucket/db/t/..')).toBeUndefined();
    expect(r.byPrefix('s3://bucket/db/t/')).toBeUndefined();
    expect(r.byPrefix('s3://bucket/db/other/x')).toBeUndefined();
  });
});

describe('column stats of a data file entry', () => {
  it('lists each column once, by field id, whichever maps hold it', () => {
    const columns = new Map<number, SchemaColumn>([[1, { name: 'id', type: 'int' }], [2, { name: 'name', type: 'string' }]]);
    const f: ContentFile = {
      content: 0, filePath: 'data/x.parquet', path: 'data/x.parquet', fileFormat: 'PARQUET', specId: 0, partition: {}, partitionKey: 'unpartitioned',
      recordCount: 5, fileSizeInBytes: 10, sequenceNumber: 1n, snapshotId: 1n,
      nullValueCounts: new Map([[2, 1n], [1, 0n], [9, 4n]]),
      lowerBounds: new Map([[1, Uint8Array.from([3, 0, 0, 0])]]),
      upperBounds: new Map([[2, new TextEncoder().encode('zed')], [1, Uint8Array.from([9, 0, 0, 0])]]),
    };
    const stats = dataFileEntry(f, [], columns).details!['columnStats'];
    expect(stats).toEqual({ id: { nulls: 0, min: 3, max: 9 }, name: { nulls: 1, max: 'zed' } });
    expect(Object.keys(stats as object)).toEqual(['id', 'name']);
    expect(dataFileEntry({ ...f, nullValueCounts: new Map(), lowerBounds: undefined, upperBounds: undefined }, [], columns).details!['columnStats']).toBeUndefined();
  });
});
