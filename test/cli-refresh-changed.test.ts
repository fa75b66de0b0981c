// `lakemap refresh --changed PATH …`: a refresh told which paths changed, from the package's `bin`
// (after `npm run build`). The engine's behaviour is in test/refresh-hinted.test.ts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).bin.lakemap);

function lakemap(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lakemap refresh --changed', () => {
  it('looks at the named paths, says so, and refuses a path leading outside the source', async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    const files = await writeExampleLake(lake);
    const root = tempDir();
    expect(lakemap('create', 't', '--source', lake, '--format', 'parquet', '--root', root).code).toBe(0);
    expect(lakemap('refresh', 't', '-q', '--root', root).code).toBe(0);
    const [a, b] = [files[0]!.path, files[1]!.path];
    for (const p of [a, b]) fs.utimesSync(path.join(lake, p), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    const text = lakemap('refresh', 't', '-q', '--root', root, '--changed', a, '--changed', path.dirname(b));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('listing: 2 changed path(s) looked at');
    expect(text.stdout).toMatch(/2 modified/);
    const json = JSON.parse(lakemap('refresh', 't', '-q', '--json', '--root', root, '--changed', '.').stdout);
    expect(json.hint).toEqual({ listing: 'full', paths: 1, reason: 'a changed path is the source root' });
    const out = lakemap('refresh', 't', '-q', '--root', root, '--changed', '../elsewhere');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('PATH_ESCAPE');
  });
});
