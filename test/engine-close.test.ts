// RefreshEngine.close() (issue 12): ends running refreshes, worker threads and timers; idempotent;
// a closed engine refuses refreshes with ENGINE_CLOSED; `await using` closes it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Field, Int32, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import type { FileScanner } from '../src/index.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');
const schema = new Schema([new Field('x', new Int32(), true)]);

/** A scanner whose probes wait until the refresh is cancelled (or `release` is called). */
function waitingScanner() {
  let release = (): void => {};
  const gate = new Promise<void>((r) => (release = r));
  const scanner: FileScanner = {
    kind: 'file',
    format: 'wait',
    extensions: ['.w'],
    probe: async (_file, ctx) => {
      await Promise.race([gate, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      return { rows: 1, units: [{ rows: 1, byteSize: 1 }], schema };
    },
  };
  return { scanner, release: () => release() };
}

describe('RefreshEngine.close()', () => {
  it('cancels a running refresh, keeps the previous version, and refuses new refreshes', async () => {
    const lake = tempDir();
    writeFile(path.join(lake, 'a.w'), 'a');
    const { scanner, release } = waitingScanner();
    const engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [scanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'wait' } });
    release();
    const first = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(first).toMatchObject({ state: 'RefreshCompleted', version: 1 });

    const blocked = waitingScanner();
    engine.registerScanner(blocked.scanner);
    writeFile(path.join(lake, 'b.w'), 'b');
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    const closing = engine.close();
    expect(engine.close()).toBe(closing); // idempotent: the same close
    await closing;
    expect(engine.getRefreshExternalCollectionProgress(jobId)).toMatchObject({ state: 'RefreshFailed', errorCode: 'CANCELLED' });
    await expect(engine.refreshExternalCollection({ collectionName: 'c' })).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    expect((await engine.getManifest({ collectionName: 'c' })).version).toBe(1); // reading still works
    await engine.close();
  });

  it('a refresh started just before close (still pending) ends cancelled, not running', async () => {
    const lake = tempDir();
    writeFile(path.join(lake, 'a.w'), 'a');
    const { scanner } = waitingScanner();
    const engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [scanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'wait' } });
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
    await engine.close();
    expect(engine.getRefreshExternalCollectionProgress(jobId)).toMatchObject({ state: 'RefreshFailed', errorCode: 'CANCELLED' });
  });

  it('await using closes the engine at the end of the scope', async () => {
    let kept: RefreshEngine | undefined;
    {
      await using engine = new RefreshEngine({ root: tempDir(), workers: 0 });
      kept = engine;
      await engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: { format: 'parquet' } });
    }
    await expect(kept.refreshExternalCollection({ collectionName: 'c' })).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
  });

  it('ends the probe worker threads', async () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    await writeManyParquetFiles(lake, 1200);
    const CHILD = `
      import wt from 'node:worker_threads';
      import { syncBuiltinESMExports } from 'node:module';
      let started = 0, exited = 0;
      const Base = wt.Worker;
      wt.Worker = class extends Base { constructor(...a) { super(...a); started++; this.once('exit', () => exited++); } };
      syncBuiltinESMExports();
      const [distUrl, lake, root] = process.argv.slice(1);
      const { RefreshEngine } = await import(distUrl);
      const engine = new RefreshEngine({ root, workers: 2 });
      await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      const before = exited;
      await engine.close();
      await engine.close();
      console.log(JSON.stringify({ state: info.state, started, before, exited }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, `file://${dist}`, lake, tempDir()], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ state: 'RefreshCompleted', started: 2, before: 0, exited: 2 });
  }, 60_000);
});
