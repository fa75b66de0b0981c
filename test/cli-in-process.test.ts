// CLI commands run in-process through `runCli` (the child-process CLI suites run `dist/`, which mutation
// runs never change): `show --version` accepts positive integers only; `show` and `describe` print text,
// or JSON with --json; `watch` and `show` need their collection. From the directory-wide mutation sample
// (docs/testing.md): these lines were reached by no in-process test.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { runCli } from '../src/cli/main.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { captureIo } from './helpers/engine-kit.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out(), err: cap.err() };
}

async function twoVersions(): Promise<string> {
  const root = tempDir();
  const source = tempDir();
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  for (const v of [1, 2]) {
    writeJsonl(path.join(source, `part-${v}.jsonl`), 10);
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.version).toBe(v);
  }
  await engine.close();
  return root;
}

describe('lakemap show and describe, in-process', () => {
  it('show --version takes a positive integer; 0, -1, 1.5 and "x" are usage errors (exit 2)', async () => {
    const root = await twoVersions();
    for (const bad of ['0', '-1', '1.5', 'x']) {
      const r = await cli('show', 'c', '--root', root, `--version=${bad}`);
      expect([r.code, r.err], bad).toEqual([2, expect.stringContaining('--version must be a positive integer')]);
    }
    const one = await cli('show', 'c', '--root', root, '--version', '1');
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^default\.c manifest version 1 \(/);
    expect(one.out).toContain('files 1,');
    const current = await cli('show', 'c', '--root', root);
    expect(current.out).toMatch(/^default\.c manifest version 2 \(/);
    const json = await cli('show', 'c', '--root', root, '--version', '1', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ version: 1, collectionName: 'c' });
  });

  it('describe prints text, or the definition as JSON with --json', async () => {
    const root = await twoVersions();
    const text = await cli('describe', 'c', '--root', root);
    expect(text.code, text.err).toBe(0);
    expect(() => JSON.parse(text.out)).toThrow();
    const json = await cli('describe', 'c', '--root', root, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ collectionName: 'c', manifestVersion: 2 });
  });

  it('show and watch need a collection: a usage error naming the argument', async () => {
    const root = tempDir();
    for (const command of ['show', 'watch']) {
      const r = await cli(command, '--root', root);
      expect([r.code, r.err], command).toEqual([2, expect.stringContaining(`${command} needs <collection>`)]);
    }
  });
});
