// Stored state: a lost or unreadable CURRENT, garbled files and the way out (repair), tampered
// manifests, write failures on the metadata root, and names that must fit every file system.
import * as fs from 'node:fs';
import fsObject from 'node:fs';
import * as os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from 'lakemap';
import { runCli } from '../src/cli/main.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { captureIo, withVersions } from './helpers/engine-kit.js';

/** Runs `fn` while `fs[name]` throws `code` for paths matching `re` (the engine's own `node:fs` bindings see it). */
async function failing<T>(name: 'openSync' | 'writeFileSync', re: RegExp, code: string, fn: () => Promise<T>): Promise<T> {
  const target = fsObject as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = target[name]!;
  target[name] = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && re.test(args[0])) throw Object.assign(new Error(`${code}: injected, ${name} '${args[0]}'`), { code });
    return orig(...args);
  };
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    target[name] = orig;
    syncBuiltinESMExports();
  }
}

/** A lock naming a live process of this host other than this one (the test runner's parent). */
function foreignLock(file: string): void {
  const start = fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, token: 't', startTime: start, hostname: os.hostname(), jobId: 'theirs', purpose: 'refresh', acquiredAt: 1 }));
}

async function refresh(engine: RefreshEngine) {
  return engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
}

async function error(p: Promise<unknown> | (() => unknown)): Promise<LakemapError> {
  let e: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    e = err;
  }
  expect(LakemapError.is(e), `expected a LakemapError, got ${String(e)}`).toBe(true);
  return e as LakemapError;
}

function snapshot(dir: string): Map<string, string> {
  return new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
}

describe('a lost or unreadable CURRENT', () => {
  it('a missing CURRENT recovers the newest intact version; the next refresh continues the numbering without overwriting', async () => {
    const s = await withVersions(2);
    const history = snapshot(s.manifests);
    fs.rmSync(s.current);
    expect((await s.engine.getManifest({ collectionName: 'c' })).version).toBe(2);
    writeJsonl(path.join(s.source, 'part-9.jsonl'), 5);
    const info = await refresh(s.engine);
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 3 });
    expect(info.warnings.join('\n')).toMatch(/CURRENT was missing/);
    for (const [name, text] of history) expect(fs.readFileSync(path.join(s.manifests, name), 'utf8'), name).toBe(text);
    expect(await s.engine.listManifestVersions({ collectionName: 'c' })).toEqual([1, 2, 3]);
  });

  it('a missing CURRENT skips a damaged newest version file', async () => {
    const s = await withVersions(2);
    fs.rmSync(s.current);
    fs.writeFileSync(path.join(s.manifests, 'v000002.json'), '{"manifestFormat":1,');
    expect((await s.engine.getManifest({ collectionName: 'c' })).version).toBe(1);
  });

  it('a CURRENT that cannot be read fails with ROOT_IO_ERROR naming it, never "no manifest yet"', async () => {
    const s = await withVersions(2);
    const history = snapshot(s.manifests);
    fs.rmSync(s.current);
    fs.mkdirSync(s.current); // EISDIR on read, as EACCES or EIO would fail
    const e = await error(s.engine.getManifest({ collectionName: 'c' }));
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.path).toBe(s.current);
    expect((await error(s.engine.refreshExternalCollection({ collectionName: 'c' }))).code).toBe('ROOT_IO_ERROR');
    expect(snapshot(s.manifests)).toEqual(history);
  });

  it('an empty collection is only one with neither CURRENT nor version files', async () => {
    const s = await withVersions(0);
    expect((await error(s.engine.getManifest({ collectionName: 'c' }))).code).toBe('MANIFEST_NOT_FOUND');
  });
});

describe('repair', () => {
  it('a garbled CURRENT blocks refresh with a pointer to repair; repair re-points it and refresh works again', async () => {
    const s = await withVersions(2);
    fs.writeFileSync(s.current, 'garbage');
    const e = await error(s.engine.refreshExternalCollection({ collectionName: 'c' }));
    expect(e.code).toBe('MANIFEST_CORRUPT');
    expect(e.message).toContain('lakemap repair');
    const report = await s.engine.repairCollection({ collectionName: 'c' });
    expect(report.version).toBe(2);
    expect(report.found.join('\n')).toContain('CURRENT');
    expect(report.actions).toEqual(['pointed CURRENT at version 2']);
    expect((await refresh(s.engine)).state).toBe('RefreshCompleted');
    expect((await s.engine.repairCollection({ collectionName: 'c' })).actions).toEqual([]);
  });

  it('a garbled newest version is set aside (not deleted) and CURRENT points at the newest valid one', async () => {
    const s = await withVersions(3);
    fs.writeFileSync(path.join(s.manifests, 'v000003.json'), '{"not":"a manifest"}');
    expect((await error(new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' }))).code).toBe('MANIFEST_CORRUPT');
    const report = await s.engine.repairCollection({ collectionName: 'c' });
    expect(report.version).toBe(2);
    expect(report.versionFiles.map((v) => [v.version, v.problems.length > 0])).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
    expect(fs.readdirSync(s.manifests).some((n) => n.startsWith('.corrupt-v000003'))).toBe(true);
    expect((await s.engine.getManifest({ collectionName: 'c' })).version).toBe(2);
    writeJsonl(path.join(s.source, 'part-9.jsonl'), 5);
    expect(await refresh(s.engine)).toMatchObject({ state: 'RefreshCompleted', version: 3 });
  });

  it('a garbled collection definition is rebuilt from the newest valid manifest (CLI)', async () => {
    const s = await withVersions(2);
    const def = JSON.parse(fs.readFileSync(path.join(s.dir, 'collection.json'), 'utf8'));
    fs.writeFileSync(path.join(s.dir, 'collection.json'), '{{{');
    expect((await error(s.engine.describeCollection({ collectionName: 'c' }))).code).toBe('MANIFEST_CORRUPT');
    const cap = captureIo();
    expect(await runCli(['repair', 'c', '--root', s.root], cap.io), cap.err()).toBe(0);
    expect(cap.out()).toMatch(/rebuilt collection\.json from manifest version 2/);
    const info = await s.engine.describeCollection({ collectionName: 'c' });
    expect(info).toMatchObject({ externalSource: def.externalSource, externalSpec: def.externalSpec, manifestVersion: 2 });
    expect((await refresh(s.engine)).state).toBe('RefreshCompleted');
  });

  it('is refused while a refresh holds the lock', async () => {
    const s = await withVersions(1);
    foreignLock(path.join(s.dir, 'refresh.lock'));
    expect((await error(s.engine.repairCollection({ collectionName: 'c' }))).code).toBe('REFRESH_IN_PROGRESS');
  });
});

describe('a tampered previous manifest', () => {
  it('is refused when read, and not reused by the next refresh: full rescan, a warning, the next version number', async () => {
    const s = await withVersions(2);
    const file = path.join(s.manifests, 'v000002.json');
    // Tampered as a format-1 document (the store writes chunked roots; format 1 still loads and is validated).
    const m = JSON.parse(JSON.stringify(await s.engine.getManifest({ collectionName: 'c', version: 2 })));
    m.files[0].rows = -5;
    fs.writeFileSync(file, JSON.stringify(m));
    // Another process (a fresh engine) reads the tampered file.
    const other = new RefreshEngine({ root: s.root, scanners: [jsonlScanner], workers: 0 });
    const e = await error(other.getManifest({ collectionName: 'c' }));
    expect(e.code).toBe('MANIFEST_CORRUPT');
    expect(e.message).toContain('rows -5');
    const info = await refresh(other);
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 3, committed: true });
    expect(info.warnings.join('\n')).toMatch(/version 2 .* is invalid and was not reused/);
    const next = await other.getManifest({ collectionName: 'c' });
    expect(next.warnings.join('\n')).toMatch(/was not reused/);
    expect(next.files.map((f) => f.rows)).toEqual([10, 10]);
    expect(next.totalRows).toBe(20);
  });

  it('segments that overlap or leave rows out are caught', async () => {
    const s = await withVersions(1);
    const file = path.join(s.manifests, 'v000001.json');
    const m = JSON.parse(JSON.stringify(await s.engine.getManifest({ collectionName: 'c', version: 1 })));
    m.segments.push(structuredClone(m.segments[0]));
    m.segments.at(-1).id = 'other';
    fs.writeFileSync(file, JSON.stringify(m));
    const read = () => new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' });
    expect((await error(read())).message).toMatch(/overlap/);
    m.segments.pop();
    m.segments[0].rows = m.segments[0].ranges[0].rows = 3;
    fs.writeFileSync(file, JSON.stringify(m));
    expect((await error(read())).message).toMatch(/cover 3 of its 10 rows/);
  });
});

describe('the metadata root', () => {
  it('a write failure on the root (ENOSPC) fails the job with ROOT_IO_ERROR naming the root, not the lake', async () => {
    const s = await withVersions(1);
    writeJsonl(path.join(s.source, 'a.jsonl'), 3);
    const info = await failing('openSync', /\/manifests\//, 'ENOSPC', () => refresh(s.engine));
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('ROOT_IO_ERROR');
    expect(info.reason).toContain(`metadata root ${s.root}`);
    expect(info.reason).toContain('ENOSPC');
    expect((await new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' })).version).toBe(1);
  });

  it('a directory where a file should be is ROOT_IO_ERROR naming the root', async () => {
    const s = await withVersions(0);
    fs.writeFileSync(s.manifests, 'a file where the manifests folder should be');
    const e = await error(s.engine.refreshExternalCollection({ collectionName: 'c' }));
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.message).toContain(`metadata root ${s.root}`);
  });

  it('create on a root where a file blocks the database folder fails cleanly and leaves nothing', async () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'default'), '');
    const engine = new RefreshEngine({ root, workers: 0 });
    const e = await error(engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: { format: 'parquet' } }));
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.message).toContain(root);
    expect(fs.readdirSync(root)).toEqual(['default']);
  });

  it('create on a full root (ENOSPC) fails cleanly and leaves nothing', async () => {
    const root = tempDir();
    const engine = new RefreshEngine({ root, workers: 0 });
    const e = await failing('openSync', /collection\.json|\.tmp-/, 'ENOSPC', () =>
      error(engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: { format: 'parquet' } })),
    );
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.message).toContain('ENOSPC');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a valid 255-character name can be created, refreshed, listed, dropped and created again', async () => {
    const root = tempDir();
    const source = tempDir();
    writeJsonl(path.join(source, 'a.jsonl'), 3);
    const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
    const name = `C${'x'.repeat(254)}`;
    const db = `D${'y'.repeat(254)}`;
    for (let round = 0; round < 2; round++) {
      await engine.createCollection({ collectionName: name, dbName: db, externalSource: source, externalSpec: { format: 'jsonl' } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: name, dbName: db })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
      expect(await engine.listCollections({ dbName: db })).toEqual([name]);
      await engine.dropCollection({ collectionName: name, dbName: db });
      expect(await engine.listCollections({ dbName: db })).toEqual([]);
    }
  });

  it('names differing only in case get different folders; a root made with plain folder names keeps working', async () => {
    const root = tempDir();
    const source = tempDir();
    writeJsonl(path.join(source, 'a.jsonl'), 3);
    const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
    await engine.createCollection({ collectionName: 'Trips', externalSource: source, externalSpec: { format: 'jsonl' } });
    await engine.createCollection({ collectionName: 'trips', externalSource: source, externalSpec: { format: 'jsonl' } });
    expect(await engine.listCollections()).toEqual(['Trips', 'trips']);
    // An older root: plain folder name with capitals, no incarnation id.
    const legacy = path.join(root, 'default', 'Old');
    fs.mkdirSync(legacy);
    const def = { collectionName: 'Old', dbName: 'default', externalSource: source, externalSpec: { format: 'jsonl' }, fields: [], createdAt: 1 };
    fs.writeFileSync(path.join(legacy, 'collection.json'), JSON.stringify(def));
    expect(await engine.listCollections()).toEqual(['Old', 'Trips', 'trips']);
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'Old' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(fs.existsSync(path.join(legacy, 'manifests', 'v000001.json'))).toBe(true);
    await engine.dropCollection({ collectionName: 'Old' });
    expect(fs.existsSync(legacy)).toBe(false);
  });
});

describe('CLI jobs', () => {
  it('lakemap jobs and lakemap job <id> read the stored records', async () => {
    const s = await withVersions(1);
    const [job] = s.engine.listRefreshExternalCollectionJobs();
    const cap = captureIo();
    expect(await runCli(['jobs', '--root', s.root, '--json'], cap.io)).toBe(0);
    expect(JSON.parse(cap.out()).map((j: { jobId: string }) => j.jobId)).toEqual([job!.jobId]);
    const one = captureIo();
    expect(await runCli(['job', job!.jobId, '--root', s.root], one.io)).toBe(0);
    expect(one.out()).toContain('RefreshCompleted  version 1 committed');
    const missing = captureIo();
    expect(await runCli(['job', 'zzz', '--root', s.root], missing.io)).toBe(1);
    expect(missing.err()).toContain('JOB_NOT_FOUND');
  });
});
