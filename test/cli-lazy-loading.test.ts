// What a command loads: a no-change refresh (the common case of a cron job or a watch) must not pay
// for apache-arrow and the scanners (~150 ms of CPU), which only a scan, a read or a schema needs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const bin = path.join(repo, pkg.bin.lakemap);
const recorder = pathToFileURL(path.join(repo, 'test', 'helpers', 'record-loads.mjs')).href;

const fakeCores = path.join(repo, 'test', 'helpers', 'fake-cores.mjs');

/** Runs node with `args` (as on 8 cores: probe workers on), recording the modules it and its threads load. */
function recorded(args: string[]): { code: number | null; stdout: string; stderr: string; loaded: string[] } {
  const log = path.join(tempDir(), 'loaded.txt');
  const env = { ...process.env, LAKEMAP_RECORD_LOADS: log, LAKEMAP_FAKE_CORES: '8' };
  const r = spawnSync(process.execPath, ['--import', fakeCores, '--import', recorder, ...args], { encoding: 'utf8', timeout: 60_000, env });
  const loaded = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const arrow = (urls: string[]): string[] => urls.filter((u) => u.includes('/node_modules/apache-arrow/'));
const scanners = (urls: string[]): string[] => urls.filter((u) => /\/dist\/scanners\/(parquet|vortex|lance|iceberg)\//.test(u));

describe('lazy loading', () => {
  let lake: string;
  let root: string;
  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    lake = tempDir();
    await writeExampleLake(lake);
    root = tempDir();
  });

  it('a no-change CLI refresh loads neither apache-arrow nor any scanner nor starts workers; a refresh that scans loads them', () => {
    expect(recorded([bin, 'create', 'trips', '--source', lake, '--format', 'parquet', '--root', root]).code).toBe(0);
    const first = recorded([bin, 'refresh', 'trips', '--root', root]);
    expect(first.stderr).toContain('done');
    expect(first.code).toBe(0);
    // The recorder sees them when they are needed: the first refresh scans every file.
    expect(arrow(first.loaded).length).toBeGreaterThan(0);
    expect(scanners(first.loaded)).toContain(pathToFileURL(path.join(repo, 'dist', 'scanners', 'parquet', 'index.js')).href);

    const again = recorded([bin, 'refresh', 'trips', '--root', root]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no change: manifest version 1 is current');
    expect(arrow(again.loaded)).toEqual([]);
    expect(scanners(again.loaded)).toEqual([]);
    expect(again.loaded.some((u) => u.endsWith('/dist/src/engine/refresh-scan.js'))).toBe(false);
    // Nor does it start probe workers on this small collection (workers start ahead only for collections of
    // WORKER_MIN_FILES or more, whose listings they help stat; test/workers-cores covers those).
    const worker = (urls: string[]): boolean => urls.some((u) => u.startsWith('worker:'));
    expect(worker(again.loaded)).toBe(false);
  });

  it('the manifest reads of the CLI (describe, summary, versions, show --json) load no apache-arrow', () => {
    for (const command of [['describe', 'trips'], ['summary', 'trips'], ['versions', 'trips'], ['show', 'trips', '--json']]) {
      const r = recorded([bin, ...command, '--root', root]);
      expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(0);
      expect(arrow(r.loaded), command.join(' ')).toEqual([]);
    }
  });

  it('importing the engine loads no apache-arrow; importing the package does (it exports Arrow values)', () => {
    const engine = pathToFileURL(path.join(repo, 'dist', 'src', 'engine', 'engine.js')).href;
    const r = recorded(['--input-type=module', '-e', `const { RefreshEngine } = await import(${JSON.stringify(engine)}); new RefreshEngine({ root: ${JSON.stringify(tempDir())} });`]);
    expect(r.stderr).toBe('');
    expect(r.loaded).toContain(engine);
    expect(arrow(r.loaded)).toEqual([]);
    expect(scanners(r.loaded)).toEqual([]);

    const index = pathToFileURL(path.join(repo, pkg.exports['.'].default)).href;
    const all = recorded(['--input-type=module', '-e', `const m = await import(${JSON.stringify(index)}); if (typeof m.manifestArrowSchema !== 'function' || m.builtinScanners.length !== 4) process.exit(3);`]);
    expect(all.code).toBe(0);
    expect(arrow(all.loaded).length).toBeGreaterThan(0);
  });
});
