// Events as an embedding host meets them: once(), listeners that throw, and errors from a second copy.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, corruptFile, type RefreshJobEvent } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distErrors = path.join(repo, 'dist', 'src', 'errors.js');

async function engineWithCollection(): Promise<RefreshEngine> {
  const src = tempDir();
  writeJsonl(path.join(src, 'a.jsonl'), 10);
  writeJsonl(path.join(src, 'b.jsonl'), 10);
  const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
  return engine;
}

describe('RefreshEngine events', () => {
  it('once() fires for the next event only; on() keeps firing; both return a remover', async () => {
    const engine = await engineWithCollection();
    const once: string[] = [];
    const all: string[] = [];
    engine.once('statechange', (e: RefreshJobEvent) => once.push(e.job.state));
    const off = engine.on('statechange', (e: RefreshJobEvent) => all.push(e.job.state));
    await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(once).toEqual(['RefreshInProgress']);
    expect(all).toEqual(['RefreshInProgress', 'RefreshCompleted']);
    off();
    const removed: string[] = [];
    engine.once('statechange', (e) => removed.push(e.job.state))(); // removed before any event
    await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(all).toHaveLength(2);
    expect(removed).toEqual([]);
  });

  it('a listener that throws is reported on stderr; the job completes and the process lives', () => {
    // A child process, so an uncaughtException would really end it (vitest would intercept it here).
    const script = `
      import { RefreshEngine } from ${JSON.stringify(pathToFileURL(path.join(repo, 'dist/src/index.js')).href)};
      import { Schema } from 'apache-arrow';
      const schema = new Schema([]);
      const jsonlScanner = { kind: 'file', format: 'jsonl', extensions: ['.jsonl'], probe: () => ({ rows: 1, units: [{ rows: 1, byteSize: 1 }], schema }) };
      import * as fs from 'node:fs';
      process.on('uncaughtException', (e) => { console.log('UNCAUGHT ' + e.message); process.exit(3); });
      const src = process.argv[1];
      fs.writeFileSync(src + '/a.jsonl', '{"id":1}\\n');
      const engine = new RefreshEngine({ root: process.argv[2], scanners: [jsonlScanner], workers: 0 });
      await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
      engine.on('progress', () => { throw new Error('boom in on'); });
      engine.once('statechange', () => { throw new Error('boom in once'); });
      engine.addEventListener('statechange', { handleEvent() { throw new Error('boom in handleEvent'); } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      await new Promise((r) => setTimeout(r, 50));
      console.log('STATE ' + info.state);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, tempDir(), tempDir()], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).not.toContain('UNCAUGHT');
    expect(r.stdout).toContain('STATE RefreshCompleted');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('boom in on');
    expect(r.stderr).toContain('boom in once');
    expect(r.stderr).toContain('boom in handleEvent');
    expect(r.stderr).toContain('"statechange" event listener threw');
  });

  it('removeEventListener finds a listener added with addEventListener', async () => {
    const engine = await engineWithCollection();
    const seen: string[] = [];
    const l = (e: Event): void => void seen.push(e.type);
    engine.addEventListener('statechange', l);
    engine.removeEventListener('statechange', l);
    await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(seen).toEqual([]);
  });
});

describe('LakemapError across copies', () => {
  it('is() recognises an error made by a second copy of the module, by brand, and checks the code', async () => {
    expect(fs.existsSync(distErrors)).toBe(true);
    // A different URL is a different module instance: its LakemapError class is not ours.
    const other = (await import(`${pathToFileURL(distErrors).href}?copy=2`)) as typeof import('../src/errors.js');
    const foreign = new other.LakemapError('NOT_FOUND', 'gone', { path: 'x' });
    expect(foreign instanceof LakemapError).toBe(false);
    expect(LakemapError.is(foreign)).toBe(true);
    expect(LakemapError.is(foreign, 'NOT_FOUND')).toBe(true);
    expect(LakemapError.is(foreign, 'IO_ERROR')).toBe(false);
    expect(other.LakemapError.is(new LakemapError('CANCELLED', 'x'))).toBe(true);
    // Look-alikes are not LakemapErrors.
    expect(LakemapError.is(Object.assign(new Error('x'), { code: 'NOT_FOUND', name: 'LakemapError' }))).toBe(false);
    expect(LakemapError.is(null)).toBe(false);
  });

  it('corruptFile is exported and builds a CORRUPT_FILE error naming the file', () => {
    const e = corruptFile('a/b.bin', 'bad magic');
    expect(LakemapError.is(e, 'CORRUPT_FILE')).toBe(true);
    expect(e.path).toBe('a/b.bin');
    expect(e.message).toBe('a/b.bin: bad magic');
  });
});
