// `lakemap/testing`: the conformance check passes the built-in scanners and catches broken ones.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Field, Int64, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { LakemapError, icebergScanner, lanceScanner, parquetScanner, vortexScanner, type FileScanner, type TableScanner } from 'lakemap';
import { assertScannerConforms, checkScanner, corruptVariants, fixtureDir, writeFixtures } from '../src/testing/index.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { writeVortexSamples } from '../fixtures/vortex/samples.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable } from '../fixtures/iceberg/sample-tables.js';
import { writeEventsTable } from '../fixtures/lance/lancedb-tables.js';
import { tempDir } from './helpers/tmp.js';

describe('lakemap/testing: built-in scanners conform', () => {
  it('parquet (DuckDB-written lake)', async () => {
    const dir = tempDir();
    await writeExampleLake(dir);
    const r = await assertScannerConforms(parquetScanner, { source: dir });
    expect(r.checked).toBe(4);
    expect(r.corruptionsChecked).toBeGreaterThan(4 * 15);
  });

  it('vortex (fixture files)', async () => {
    const dir = tempDir();
    writeVortexSamples(dir);
    const r = await assertScannerConforms(vortexScanner, { source: dir });
    expect(r.checked).toBeGreaterThan(3);
  });

  it('the guide\'s jsonl scanner (tailBytes: 0)', async () => {
    const dir = tempDir();
    writeFixtures(dir, { 'a.jsonl': '{"id":1,"name":"x"}\n{"id":2,"name":"y"}\n', 'sub/b.jsonl': '{"id":3,"ok":true}\n' });
    const r = await assertScannerConforms(jsonlScanner, { source: dir, spec: { lines_per_unit: 1 } });
    expect(r.checked).toBe(2);
  });

  it('iceberg-table (fixture table) and lance-table (lancedb-written)', async () => {
    const ice = tempDir();
    writeFixtureTable(ice, historyTable());
    expect((await assertScannerConforms(icebergScanner, { source: ice })).checked).toBeGreaterThan(0);
    const lance = tempDir();
    const { datasetDir } = await writeEventsTable(lance);
    expect((await assertScannerConforms(lanceScanner, { source: datasetDir })).checked).toBe(3);
  });
});

describe('lakemap/testing: broken scanners are caught', () => {
  const schema = new Schema([new Field('id', new Int64(), false)]);
  const sample = (): string => {
    const dir = fixtureDir();
    writeFixtures(dir, { 'a.bin': new Uint8Array(64).fill(7) });
    return dir;
  };

  it('rows that are not the sum of the units, and a missing schema', async () => {
    const bad: FileScanner = { kind: 'file', format: 'b', extensions: ['.bin'], probe: () => ({ rows: 3, units: [{ rows: 2, byteSize: 1 }], schema }) };
    const r = await checkScanner(bad, { source: sample(), corruptions: false });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['a.bin: rows is 3 but the units add up to 2']);
    const noSchema: FileScanner = { ...bad, probe: () => ({ rows: 1, units: [{ rows: 1, byteSize: 1 }] }) as never };
    expect((await checkScanner(noSchema, { source: sample(), corruptions: false })).problems).toEqual(['a.bin: no Arrow schema']);
  });

  it('plain exceptions on damaged files, errors without the path, reads past the end, too many bytes', async () => {
    const throwsPlain: FileScanner = {
      kind: 'file', format: 'b', extensions: ['.bin'], tailBytes: 8,
      probe(file) {
        if (file.size < 64) throw new Error('short');
        return { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema };
      },
    };
    const r1 = await checkScanner(throwsPlain, { source: sample() });
    expect(r1.problems.some((p) => p.includes('truncated-to-1') && p.includes('something other than a LakemapError'))).toBe(true);

    const noPath: FileScanner = { ...throwsPlain, probe: (f) => { if (f.size < 64) throw new LakemapError('CORRUPT_FILE', 'short'); return { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema }; } };
    expect((await checkScanner(noPath, { source: sample() })).problems.some((p) => p.includes('names neither the file'))).toBe(true);

    const pastEnd: FileScanner = { ...throwsPlain, probe: async (f) => { await f.read(0, 64); return { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema }; } };
    expect((await checkScanner(pastEnd, { source: sample() })).problems.some((p) => p.includes('past the end'))).toBe(true);

    const greedy: FileScanner = { ...throwsPlain, probe: async (f) => { await f.read(0, f.size); return { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema }; } };
    expect((await checkScanner(greedy, { source: sample(), maxBytesRead: 32, corruptions: false })).problems).toEqual(['a.bin: read 72 bytes, more than the 32 allowed (metadata only)']);
  });

  it('non-determinism, hangs, and a table scanner that ignores cancellation by throwing plain errors', async () => {
    let n = 0;
    const flaky: FileScanner = { kind: 'file', format: 'b', extensions: ['.bin'], probe: () => ({ rows: ++n, units: [{ rows: n, byteSize: 1 }], schema }) };
    expect((await checkScanner(flaky, { source: sample(), corruptions: false })).problems).toEqual(['a.bin: two probes of the same file disagree (not deterministic)']);
    const hangs: FileScanner = { kind: 'file', format: 'b', extensions: ['.bin'], probe: (_f, ctx) => (ctx.signal.aborted ? new Promise(() => {}) : { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema }) };
    expect((await checkScanner(hangs, { source: sample(), corruptions: false, timeoutMs: 200 })).problems).toEqual(['a.bin: with a cancelled signal the probe did not settle within 200 ms']);
    const table: TableScanner = {
      kind: 'table', format: 't',
      async snapshot(_s, ctx) {
        if (ctx.signal.aborted) throw new Error('aborted');
        return { tableVersion: '1', schema, entries: [{ path: 'x', sizeBytes: 1, fingerprint: 'same', rows: 1, units: [{ rows: 1, byteSize: 1 }] }, { path: 'y', sizeBytes: 1, fingerprint: 'same', rows: 1, units: [{ rows: 1, byteSize: 1 }] }] };
      },
    };
    const src = sample();
    const r = await checkScanner(table, { source: src });
    expect(r.problems).toEqual(['y: fingerprint same is used by two entries', `${src}: with a cancelled signal the snapshot threw something other than a LakemapError`]);
  });

  it('corruptVariants is deterministic and leaves the original alone', () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
    const a = corruptVariants(bytes, 16);
    expect(corruptVariants(bytes, 16)).toEqual(a);
    expect(a.map((v) => v.name)).toContain('empty');
    expect(a.filter((v) => v.name.startsWith('flipped-at-')).every((v) => Number(v.name.slice(11)) >= 84)).toBe(true);
    expect(bytes[99]).toBe(99);
    expect(fs.existsSync(path.join(fixtureDir(), 'x'))).toBe(false);
  });
});
