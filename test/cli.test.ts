// The `lakemap` CLI, run from the package's `bin` as a user would (after `npm run build`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const bin = path.join(repo, pkg.bin.lakemap);

function lakemap(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lakemap CLI', () => {
  let lake: string;
  let root: string;
  let expectedRows: number;
  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    lake = tempDir();
    expectedRows = (await writeExampleLake(lake)).reduce((n, f) => n + f.rows, 0);
    root = tempDir();
  });

  it('creates, refreshes (--json) and shows (--json) a collection', () => {
    const created = lakemap('create', 'trips', '--source', lake, '--format', 'parquet', '--field', 'pk=id', '--field', 'embedding=vec', '--root', root, '--db', 'lake');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);

    const refreshed = lakemap('refresh', 'trips', '--json', '--root', root, '--db', 'lake');
    expect(refreshed.code).toBe(0);
    const job = JSON.parse(refreshed.stdout);
    expect(job).toMatchObject({ state: 'RefreshCompleted', progress: 100, collectionName: 'trips', dbName: 'lake', version: 1, reason: '' });
    expect(refreshed.stderr).not.toContain('%'); // no progress bar when stderr is not a terminal

    const shown = lakemap('show', 'trips', '--json', '--root', root, '--db', 'lake');
    expect(shown.code).toBe(0);
    const m = JSON.parse(shown.stdout);
    expect(m).toMatchObject({ version: 1, collectionName: 'trips', dbName: 'lake', format: 'parquet', totalRows: expectedRows });
    expect(m.files.map((f: { path: string }) => f.path)).toEqual([
      'year=2024/month=01/part-0.parquet',
      'year=2024/month=01/part-1.parquet',
      'year=2024/month=02/part-0.parquet',
      'year=2025/month=01/part-0.parquet',
    ]);
    for (const f of m.files) {
      expect(f.sizeBytes).toBe(fs.statSync(path.join(lake, f.path)).size);
      expect(f.rows).toBeGreaterThan(0);
    }
    const segRows = m.segments.reduce((n: number, s: { rows: number }) => n + s.rows, 0);
    expect(segRows).toBe(expectedRows);
    expect(m.segments[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f]{20}$/), rows: expect.any(Number), ranges: [{ path: m.files[0].path, rowOffset: 0, rows: expect.any(Number) }] });

    const text = lakemap('show', 'trips', '--root', root, '--db', 'lake');
    expect(text.stdout).toContain(`rows ${expectedRows}`);
    expect(lakemap('collections', '--root', root, '--db', 'lake').stdout).toBe('trips\n');
  });

  it('refresh --spec / --source replace the stored ones; show --version reads an old version', () => {
    const src = tempDir();
    fs.cpSync(lake, src, { recursive: true });
    expect(lakemap('create', 'c', '--source', src, '--spec', '{"format":"parquet"}', '--root', root).code).toBe(0);
    expect(lakemap('refresh', 'c', '--root', root).code).toBe(0);
    const r = lakemap('refresh', 'c', '--spec', '{"format":"parquet","segment_max_rows":1000}', '--json', '--root', root);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'RefreshCompleted', version: 2, externalSpec: { format: 'parquet', segment_max_rows: 1000 } });
    const v1 = JSON.parse(lakemap('show', 'c', '--version', '1', '--json', '--root', root).stdout);
    const v2 = JSON.parse(lakemap('show', 'c', '--json', '--root', root).stdout);
    expect(v2.segments.length).toBeGreaterThan(v1.segments.length);
    expect(Math.max(...v2.segments.map((s: { rows: number }) => s.rows))).toBeLessThanOrEqual(2048); // one row group per segment at most
  });

  it('exits 1 with the reason on stderr when the refresh fails', () => {
    const src = tempDir();
    fs.cpSync(lake, src, { recursive: true });
    writeFile(path.join(src, 'year=2024', 'broken.parquet'), 'PAR1 this is not a parquet file PAR1');
    expect(lakemap('create', 'bad', '--source', src, '--format', 'parquet', '--root', root).code).toBe(0);
    const r = lakemap('refresh', 'bad', '--root', root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('year=2024/broken.parquet');
    expect(r.stderr).toContain('CORRUPT_FILE');
    expect(lakemap('show', 'bad', '--root', root).code).toBe(1); // never refreshed: no manifest
  });

  it('exits 2 on usage errors', () => {
    expect(lakemap('frobnicate', '--root', root).code).toBe(2);
    expect(lakemap('create', 'x', '--format', 'parquet', '--root', root).code).toBe(2); // no --source
    expect(lakemap('create', 'x', '--source', lake, '--root', root).code).toBe(2); // no format
    expect(lakemap('create', '1bad', '--source', lake, '--format', 'parquet', '--root', root).code).toBe(2);
    expect(lakemap('create', 'x', '--source', lake, '--format', 'csv', '--root', root).stderr).toContain('parquet');
    expect(lakemap('refresh', '--root', root).code).toBe(2);
    expect(lakemap('show', 'trips', '--version', 'abc', '--root', root).code).toBe(2);
    expect(lakemap('create', 'x', '--source', lake, '--format', 'parquet', '--field', 'novalue', '--root', root).code).toBe(2);
    expect(lakemap('refresh', 'x', '--bogus', '--root', root).code).toBe(2);
  });
});

describe('package', () => {
  it('exports types first, ships a bin with a shebang, and imports by name', () => {
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types');
    expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(pkg.devDependencies['@lancedb/lancedb']).toBe('0.31.0');
    expect(pkg.dependencies['@duckdb/node-api']).toBeUndefined();
    expect(pkg.dependencies['@lancedb/lancedb']).toBeUndefined();
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('lakemap'); console.log(Object.keys(m).sort().join(','))"],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(',')).toEqual(expect.arrayContaining(['RefreshEngine', 'LakemapError', 'parquetScanner', 'manifestArrowSchema']));
  });
});
