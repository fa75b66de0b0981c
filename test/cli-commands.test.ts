// The CLI's command set, help, version and machine-readable errors, run from the built bin.
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
const COMMANDS = ['create', 'refresh', 'show', 'versions', 'describe', 'collections', 'drop'];

function lakemap(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lakemap CLI commands', () => {
  let lake: string;
  let root: string;
  beforeAll(async () => {
    lake = tempDir();
    await writeExampleLake(lake);
    root = tempDir();
  });

  it('--version prints the package version, and does not collide with show --version', () => {
    const r = lakemap('--version');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(lakemap('-V').stdout).toBe(`${pkg.version}\n`);
    expect(JSON.parse(lakemap('--version', '--json').stdout)).toEqual({ version: pkg.version });
  });

  it('--help lists every command; <cmd> --help prints usage, options and an example', () => {
    const general = lakemap('--help');
    expect(general.code).toBe(0);
    for (const c of COMMANDS) expect(general.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    for (const c of COMMANDS) {
      const h = lakemap(c, '--help');
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(new RegExp(`^usage: lakemap ${c}\\b`));
      expect(h.stdout, c).toContain('options:');
      expect(h.stdout, c).toContain('--root DIR');
      expect(h.stdout, c).toMatch(new RegExp(`^examples?:\\n  lakemap ${c}\\b`, 'm'));
      for (const line of h.stdout.split('\n')) expect(line.length, `${c}: ${line}`).toBeLessThanOrEqual(100);
    }
    expect(lakemap('show', '--help').stdout).toContain('--version N');
    expect(lakemap('create', '-h').stdout).toContain('--field name=column ...');
  });

  it('create, refresh, describe, versions, drop: text and --json', () => {
    expect(lakemap('create', 'c', '--source', lake, '--format', 'parquet', '--field', 'pk=id', '--root', root).code).toBe(0);
    const before = lakemap('describe', 'c', '--root', root);
    expect(before.stdout).toContain('manifest  none yet (never refreshed)');
    expect(before.stdout).toContain('fields    pk=id');
    expect(lakemap('versions', 'c', '--root', root).stdout).toBe('no manifest yet (never refreshed)\n');
    expect(lakemap('refresh', 'c', '--root', root).code).toBe(0);
    expect(lakemap('refresh', 'c', '--spec', '{"format":"parquet","segment_max_rows":1000}', '--root', root).code).toBe(0);
    expect(lakemap('versions', 'c', '--root', root).stdout).toBe('1\n2  (current)\n');
    expect(JSON.parse(lakemap('versions', 'c', '--json', '--root', root).stdout)).toEqual({ versions: [1, 2], current: 2 });
    const d = JSON.parse(lakemap('describe', 'c', '--json', '--root', root).stdout);
    expect(d).toMatchObject({ collectionName: 'c', dbName: 'default', manifestVersion: 2, externalSpec: { format: 'parquet', segment_max_rows: 1000 }, fields: [{ name: 'pk', externalField: 'id' }] });
    expect(lakemap('describe', 'c', '--root', root).stdout).toContain('format    parquet {"segment_max_rows":1000}');
    // Global options may come before the command.
    expect(lakemap('--root', root, 'collections').stdout).toBe('c\n');
    const dropped = lakemap('drop', 'c', '--json', '--root', root);
    expect(dropped.code).toBe(0);
    expect(JSON.parse(dropped.stdout)).toEqual({ dropped: true, dbName: 'default', collectionName: 'c' });
    expect(lakemap('collections', '--root', root).stdout).toBe('');
    expect(fs.readdirSync(lake).length).toBeGreaterThan(0); // the external data is untouched
    const again = lakemap('drop', 'c', '--root', root);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('lakemap: COLLECTION_NOT_FOUND: collection default.c does not exist\n');
  });

  it('with --json every error is one JSON object on stdout, with the usual exit code', () => {
    const cases: [string[], number, string][] = [
      [['frobnicate'], 2, 'USAGE'],
      [['refresh'], 2, 'USAGE'],
      [['show', 'x', '--bogus'], 2, 'USAGE'],
      [['show', 'x', '--version', 'abc'], 2, 'USAGE'],
      [['create', '1bad', '--source', lake, '--format', 'parquet'], 2, 'INVALID_NAME'],
      [['create', 'x', '--source', lake, '--format', 'csv'], 2, 'UNKNOWN_FORMAT'],
      [['describe', 'nope'], 1, 'COLLECTION_NOT_FOUND'],
      [['show', 'nope'], 1, 'COLLECTION_NOT_FOUND'],
    ];
    for (const [args, exit, code] of cases) {
      const r = lakemap(...args, '--json', '--root', root);
      expect(r.code, args.join(' ')).toBe(exit);
      expect(r.stderr, args.join(' ')).toBe('');
      const out = JSON.parse(r.stdout);
      expect(Object.keys(out), args.join(' ')).toEqual(['error']);
      expect(out.error.code, args.join(' ')).toBe(code);
      expect(typeof out.error.message).toBe('string');
      expect(out.error).toHaveProperty('path');
    }
  });

  it('a failed refresh with --json: the job and an error object on stdout, exit 1', () => {
    const src = tempDir();
    fs.cpSync(lake, src, { recursive: true });
    writeFile(path.join(src, 'broken.parquet'), 'PAR1 not parquet PAR1');
    expect(lakemap('create', 'bad', '--source', src, '--format', 'parquet', '--root', root).code).toBe(0);
    const r = lakemap('refresh', 'bad', '--json', '--root', root);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('RefreshFailed');
    expect(out.error).toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringContaining('broken.parquet'), path: 'broken.parquet' });
    expect(out.errorPath).toBe('broken.parquet');
  });

  it('progress off a terminal is plain lines: phases, a summary, no escapes or carriage returns', () => {
    expect(lakemap('create', 'p', '--source', lake, '--format', 'parquet', '--root', root).code).toBe(0);
    const r = lakemap('refresh', 'p', '--root', root);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('default.p: listing files');
    expect(lines).toContain('default.p: scanning 4 files');
    expect(lines.at(-1)).toMatch(/^default\.p: done in \d+\.\ds$/);
    expect(r.stdout).toMatch(/^committed manifest version 1 in \d+ ms\n/);
    expect(lakemap('refresh', 'p', '--quiet', '--root', root).stderr).toBe('');
  });
});
