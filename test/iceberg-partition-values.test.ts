// Partition values of every Avro shape a partition tuple holds (boolean, string, long, int, bytes, null),
// each made JSON-safe by its Iceberg type: booleans stay booleans, longs become numbers, timestamps and
// dates ISO text, decimals their decimal text. Manifests written with plain avsc (fixtures/iceberg).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { writeFixtureTable, type FixturePartitionField } from '../fixtures/iceberg/table-writer.js';
import { snapshotLocalTable } from './helpers/scan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-pv-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const schema = {
  'schema-id': 0, type: 'struct' as const, fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'flag', required: false, type: 'boolean' },
    { id: 4, name: 'ts', required: false, type: 'timestamptz' },
    { id: 5, name: 'amount', required: false, type: 'decimal(10,2)' },
    { id: 6, name: 'day', required: false, type: 'date' },
  ],
};

const identity = (name: string, sourceId: number, avroType: unknown, i: number): FixturePartitionField =>
  ({ name, fieldId: 1000 + i, avroType: ['null', avroType], sourceId, transform: 'identity' });

describe('iceberg-table: partition values and bounds by type', () => {
  it('keeps booleans and strings, turns longs into numbers and timestamps, dates and decimals into text', async () => {
    const dir = path.join(tmp, 'identity');
    fs.mkdirSync(dir);
    writeFixtureTable(dir, {
      schemas: [schema],
      partitionFields: [
        identity('flag', 3, 'boolean', 0),
        identity('name', 2, 'string', 1),
        identity('id', 1, 'long', 2),
        identity('ts', 4, 'long', 3),
        identity('amount', 5, 'bytes', 4),
        identity('day', 6, 'int', 5),
      ],
      snapshots: [{ id: 7n, timestampMs: 10, sequenceNumber: 1n, manifests: [[
        { path: 'data/a.parquet', records: 3, partition: { flag: true, name: 'north', id: 1_234_567_890_123n, ts: 1_700_000_000_123_456n, amount: Buffer.from([0x01, 0x00]), day: 19000 } },
        { path: 'data/b.parquet', records: 4, partition: { flag: false, name: '', id: 9_007_199_254_740_993n, ts: null, amount: null, day: null } },
      ]] }],
    });
    const s = await snapshotLocalTable(icebergScanner, dir);
    const parts = new Map(s.entries.map((e) => [e.path, e.details!['partition']]));
    expect(parts.get('data/a.parquet')).toStrictEqual({ flag: true, name: 'north', id: 1_234_567_890_123, ts: '2023-11-14T22:13:20.123456Z', amount: '2.56', day: '2022-01-08' });
    // Beyond 2^53 a long is kept exact as decimal text.
    expect(parts.get('data/b.parquet')).toStrictEqual({ flag: false, name: '', id: '9007199254740993', ts: null, amount: null, day: null });
  });

  it('bounds: a 16-byte uuid as UUID text; a uuid of another length, and other 16-byte values, as hex', async () => {
    const dir = path.join(tmp, 'uuid');
    fs.mkdirSync(dir);
    const u = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
    writeFixtureTable(dir, {
      schemas: [{ 'schema-id': 0, type: 'struct', fields: [
        { id: 1, name: 'u', required: false, type: 'uuid' },
        { id: 2, name: 'f', required: false, type: 'fixed[16]' },
        { id: 3, name: 'bin', required: false, type: 'binary' },
      ] }],
      snapshots: [{ id: 7n, timestampMs: 10, sequenceNumber: 1n, manifests: [[
        { path: 'data/a.parquet', records: 3, lowerBounds: { 1: u, 2: u, 3: u }, upperBounds: { 1: u.subarray(0, 4), 2: u, 3: u.subarray(0, 4) } },
      ]] }],
    });
    const [a] = (await snapshotLocalTable(icebergScanner, dir)).entries;
    expect(a!.details!['columnStats']).toStrictEqual({
      u: { min: '01234567-89ab-cdef-fedc-ba9876543210', max: '01234567' },
      f: { min: '0123456789abcdeffedcba9876543210', max: '0123456789abcdeffedcba9876543210' },
      bin: { min: '0123456789abcdeffedcba9876543210', max: '01234567' },
    });
  });
});
