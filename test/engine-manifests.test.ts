// Manifests: versions, incremental reuse, segment ids, schema checks, sources and names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine, manifestArrowSchema, type FileScanner, type RefreshJobInfo } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeFile, writeJsonl } from './helpers/tmp.js';

function countingScanner(): { scanner: FileScanner; probed: string[] } {
  const probed: string[] = [];
  return {
    probed,
    scanner: { ...jsonlScanner, probe: (f, c) => (probed.push(f.path), jsonlScanner.probe(f, c)) },
  };
}

async function refresh(engine: RefreshEngine, req: Parameters<RefreshEngine['refreshExternalCollection']>[0] = { collectionName: 'c' }): Promise<RefreshJobInfo> {
  return engine.waitForRefresh((await engine.refreshExternalCollection(req)).jobId);
}

function newEngine(scanner: FileScanner = jsonlScanner, opts: { keepVersions?: number } = {}): RefreshEngine {
  return new RefreshEngine({ root: tempDir(), scanners: [scanner], ...opts });
}

describe('manifest content', () => {
  it('records files with relative paths, units with row offsets, and segments within segment_max_rows', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a', 'b', 'x.jsonl'), 2500);
    writeJsonl(path.join(src, 'y.jsonl'), 10);
    writeJsonl(path.join(src, '.hidden.jsonl'), 10);
    writeJsonl(path.join(src, '_tmp.jsonl'), 10);
    writeJsonl(path.join(src, '_staging', 'z.jsonl'), 10);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: JSON.stringify({ format: 'jsonl', segment_max_rows: 2000, custom_key: 7 }) });
    const info = await refresh(engine);
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.version).toBe(1);
    expect(m.externalSpec).toEqual({ format: 'jsonl', segment_max_rows: 2000, custom_key: 7 });
    expect(m.files.map((f) => f.path)).toEqual(['a/b/x.jsonl', 'y.jsonl']);
    expect(m.totalRows).toBe(2510);
    const x = m.files[0]!;
    expect(x.units.map((u) => [u.rowOffset, u.rows])).toEqual([[0, 1000], [1000, 1000], [2000, 500]]);
    expect(x.sizeBytes).toBe(fs.statSync(path.join(src, 'a/b/x.jsonl')).size);
    // units 1000+1000 fit in 2000; the third starts a new segment
    expect(m.segments.map((s) => [s.ranges[0]!.path, s.ranges[0]!.rowOffset, s.rows])).toEqual([
      ['a/b/x.jsonl', 0, 2000],
      ['a/b/x.jsonl', 2000, 500],
      ['y.jsonl', 0, 10],
    ]);
    expect(new Set(m.segments.map((s) => s.id)).size).toBe(3);
    expect(manifestArrowSchema(m).fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Float64', 'name:Utf8', 'score:Float64']);
  });

  it('gives byte-identical copies of a file distinct segment ids', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 5);
    fs.copyFileSync(path.join(src, 'a.jsonl'), path.join(src, 'b.jsonl'));
    const t = new Date();
    for (const n of ['a', 'b']) fs.utimesSync(path.join(src, `${n}.jsonl`), t, t);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    await refresh(engine);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files[0]!.fingerprint).toBe(m.files[1]!.fingerprint);
    expect(m.segments[0]!.id).not.toBe(m.segments[1]!.id);
  });

  it('makes a unit larger than segment_max_rows a segment of its own', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'x.jsonl'), 25);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl', lines_per_unit: 10, segment_max_rows: 4 } });
    await refresh(engine);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.segments.map((s) => s.rows)).toEqual([10, 10, 5]);
  });

  it('maps declared fields onto external columns', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'x.jsonl'), 3);
    const engine = newEngine();
    await engine.createCollection({
      collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' },
      fields: [{ name: 'pk', externalField: 'id' }, { name: 'label', externalField: 'name' }],
    });
    expect((await refresh(engine)).state).toBe('RefreshCompleted');
    const schema = manifestArrowSchema(await engine.getManifest({ collectionName: 'c' }));
    expect(schema.fields.map((f) => [f.name, String(f.type), f.metadata.get('lakemap:external_field')])).toEqual([
      ['pk', 'Float64', 'id'],
      ['label', 'Utf8', 'name'],
    ]);
  });
});

describe('incremental refresh', () => {
  it('does not reopen unchanged files and keeps their segment ids; a no-change refresh commits nothing', async () => {
    const src = tempDir();
    for (const n of ['a', 'b', 'c']) writeJsonl(path.join(src, `${n}.jsonl`), 5);
    const { scanner, probed } = countingScanner();
    const engine = newEngine(scanner);
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    await refresh(engine);
    const v1 = await engine.getManifest({ collectionName: 'c' });
    expect(probed.sort()).toEqual(['a.jsonl', 'b.jsonl', 'c.jsonl']);

    probed.length = 0;
    const same = await refresh(engine);
    expect(probed).toEqual([]);
    expect(same.committed).toBe(false);
    expect(same.version).toBe(1);
    expect(same.changes?.files).toEqual({ added: 0, removed: 0, modified: 0, unchanged: 3 });
    expect(await engine.listManifestVersions({ collectionName: 'c' })).toEqual([1]);

    writeJsonl(path.join(src, 'd.jsonl'), 5);
    fs.rmSync(path.join(src, 'a.jsonl'));
    const next = await refresh(engine);
    expect(probed).toEqual(['d.jsonl']);
    expect(next.version).toBe(2);
    expect(next.changes?.files).toEqual({ added: 1, removed: 1, modified: 0, unchanged: 2 });
    expect(next.changes?.addedPaths).toEqual(['d.jsonl']);
    expect(next.changes?.removedPaths).toEqual(['a.jsonl']);
    expect(next.changes?.segments).toEqual({ added: 1, removed: 1, kept: 2 });
    const v2 = await engine.getManifest({ collectionName: 'c' });
    const idOf = (m: typeof v1, p: string) => m.segments.find((s) => s.ranges[0]!.path === p)!.id;
    expect(idOf(v2, 'b.jsonl')).toBe(idOf(v1, 'b.jsonl'));
    expect(idOf(v2, 'c.jsonl')).toBe(idOf(v1, 'c.jsonl'));
  });

  it('gives new segment ids when a file is rewritten in place, even with the same size', async () => {
    const src = tempDir();
    const file = path.join(src, 'a.jsonl');
    writeJsonl(file, 5, 0);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    await refresh(engine);
    const before = await engine.getManifest({ collectionName: 'c' });
    const size = fs.statSync(file).size;
    writeFile(file, fs.readFileSync(file, 'utf8').replace(/"n(\d)/g, '"m$1')); // other rows, same byte length
    expect(fs.statSync(file).size).toBe(size);
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(file, t, t);
    const info = await refresh(engine);
    expect(info.changes?.files.modified).toBe(1);
    const after = await engine.getManifest({ collectionName: 'c' });
    expect(after.segments[0]!.id).not.toBe(before.segments[0]!.id);
    expect(after.files[0]!.fingerprint).not.toBe(before.files[0]!.fingerprint);
  });

  it('re-probes every file when the scanner options of the spec change', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 5);
    const { scanner, probed } = countingScanner();
    const engine = newEngine(scanner);
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    await refresh(engine);
    await refresh(engine, { collectionName: 'c', externalSpec: { format: 'jsonl', lines_per_unit: 2 } });
    expect(probed).toEqual(['a.jsonl', 'a.jsonl']);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files[0]!.units.map((u) => u.rows)).toEqual([2, 2, 1]);
    expect((await engine.describeCollection({ collectionName: 'c' })).externalSpec).toEqual({ format: 'jsonl', lines_per_unit: 2 });
  });
});

describe('versions', () => {
  it('keeps old versions readable and only the last N', async () => {
    const src = tempDir();
    const engine = newEngine(jsonlScanner, { keepVersions: 2 });
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    for (let i = 0; i < 4; i++) {
      writeJsonl(path.join(src, `f${i}.jsonl`), 1);
      expect((await refresh(engine)).version).toBe(i + 1);
    }
    expect(await engine.listManifestVersions({ collectionName: 'c' })).toEqual([3, 4]);
    expect((await engine.getManifest({ collectionName: 'c', version: 3 })).files).toHaveLength(3);
    await expect(engine.getManifest({ collectionName: 'c', version: 1 })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
  });

  it('leaves the previous version intact when a refresh fails', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 3);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' } });
    await refresh(engine);
    writeFile(path.join(src, 'b.jsonl'), '{broken\n');
    const failed = await refresh(engine);
    expect(failed.state).toBe('RefreshFailed');
    expect(failed.reason).toContain('b.jsonl');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.version).toBe(1);
    expect(m.files.map((f) => f.path)).toEqual(['a.jsonl']);
    // a fresh engine on the same root reads the same
    const again = new RefreshEngine({ root: engine.root, scanners: [jsonlScanner] });
    expect((await again.getManifest({ collectionName: 'c' })).version).toBe(1);
  });

  it('skips unreadable files with skip_invalid and lists them', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 3);
    writeFile(path.join(src, 'b.jsonl'), '{broken\n');
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl', skip_invalid: true } });
    const info = await refresh(engine);
    expect(info.state).toBe('RefreshCompleted');
    expect(info.skipped).toEqual([expect.objectContaining({ path: 'b.jsonl', code: 'CORRUPT_FILE' })]);
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => f.path)).toEqual(['a.jsonl']);
    expect(m.skipped.map((s) => s.path)).toEqual(['b.jsonl']);
  });
});

describe('schema checks', () => {
  it('fails naming the column and a file when a declared field is missing', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 3);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' }, fields: [{ name: 'v', externalField: 'vector' }] });
    const info = await refresh(engine);
    expect(info.errorCode).toBe('FIELD_NOT_FOUND');
    expect(info.reason).toContain('"vector"');
    expect(info.reason).toContain('a.jsonl');
  });

  it('fails naming both files when their schemas disagree on a mapped column', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 3);
    writeFile(path.join(src, 'b.jsonl'), JSON.stringify({ id: 'x', name: 'n', score: 1 }) + '\n');
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' }, fields: [{ name: 'pk', externalField: 'id' }] });
    const info = await refresh(engine);
    expect(info.errorCode).toBe('SCHEMA_MISMATCH');
    expect(info.reason).toContain('a.jsonl');
    expect(info.reason).toContain('b.jsonl');
    expect(info.reason).toContain('"id"');
  });

  it('ignores disagreement on columns that are not mapped', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 3);
    writeFile(path.join(src, 'b.jsonl'), JSON.stringify({ id: 1, name: 5, score: 1 }) + '\n');
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'jsonl' }, fields: [{ name: 'pk', externalField: 'id' }] });
    expect((await refresh(engine)).state).toBe('RefreshCompleted');
  });
});

describe('sources and names', () => {
  it('refuses invalid collection and database names before touching a path', async () => {
    const engine = newEngine();
    for (const name of ['../x', '1abc', 'a-b', '', 'a'.repeat(256), 'a/b']) {
      await expect(engine.createCollection({ collectionName: name, externalSource: tempDir(), externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    }
    await expect(engine.createCollection({ collectionName: 'ok', dbName: '..', externalSource: tempDir(), externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect(fs.readdirSync(engine.root, { withFileTypes: true }).length).toBe(0);
  });

  it('refuses an unknown format, listing the known ones', async () => {
    const engine = newEngine();
    const err = await engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: '{"format":"csv"}' }).catch((e) => e);
    expect(err.code).toBe('UNKNOWN_FORMAT');
    expect(err.message).toContain('jsonl');
    await expect(engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: '{nope' })).rejects.toMatchObject({ code: 'INVALID_SPEC' });
    await expect(engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: {} as never })).rejects.toMatchObject({ code: 'INVALID_SPEC' });
  });

  it('accepts absolute paths and file:// URIs; refuses relative paths and ..', async () => {
    const src = tempDir();
    writeJsonl(path.join(src, 'a.jsonl'), 2);
    const engine = newEngine();
    await engine.createCollection({ collectionName: 'u', externalSource: `file://${src}`, externalSpec: { format: 'jsonl' } });
    expect((await refresh(engine, { collectionName: 'u' })).state).toBe('RefreshCompleted');
    await expect(engine.createCollection({ collectionName: 'r', externalSource: 'data/x', externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'INVALID_SOURCE' });
    await expect(engine.createCollection({ collectionName: 'd', externalSource: `${src}/../x`, externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
  });

  it('with volumes, accepts only volume sources and refuses .. and symlinks that lead out', async () => {
    const vol = tempDir();
    const outside = tempDir();
    writeJsonl(path.join(outside, 'secret.jsonl'), 2);
    writeJsonl(path.join(vol, 'lake', 'a.jsonl'), 2);
    fs.symlinkSync(outside, path.join(vol, 'escape'));
    fs.symlinkSync(path.join(outside, 'secret.jsonl'), path.join(vol, 'lake', 'link.jsonl'));
    const engine = new RefreshEngine({ root: tempDir(), volumes: { v: vol }, scanners: [jsonlScanner] });
    await expect(engine.createCollection({ collectionName: 'a', externalSource: vol, externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'INVALID_SOURCE' });
    await expect(engine.createCollection({ collectionName: 'a', externalSource: 'volume://nope/x', externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'INVALID_SOURCE' });
    await expect(engine.createCollection({ collectionName: 'a', externalSource: 'volume://v/../x', externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'PATH_ESCAPE' });

    await engine.createCollection({ collectionName: 'esc', externalSource: 'volume://v/escape', externalSpec: { format: 'jsonl' } });
    const esc = await refresh(engine, { collectionName: 'esc' });
    expect(esc.errorCode).toBe('PATH_ESCAPE');

    await engine.createCollection({ collectionName: 'lake', externalSource: 'volume://v/lake', externalSpec: { format: 'jsonl' } });
    const lake = await refresh(engine, { collectionName: 'lake' });
    expect(lake.errorCode).toBe('PATH_ESCAPE');
    expect(lake.reason).toContain('link.jsonl');
    fs.rmSync(path.join(vol, 'lake', 'link.jsonl'));
    expect((await refresh(engine, { collectionName: 'lake' })).state).toBe('RefreshCompleted');
  });

  it('lists, describes and drops collections', async () => {
    const engine = newEngine();
    const src = tempDir();
    await engine.createCollection({ collectionName: 'b', externalSource: src, externalSpec: { format: 'jsonl' } });
    await engine.createCollection({ collectionName: 'a', externalSource: src, externalSpec: { format: 'jsonl' } });
    await engine.createCollection({ collectionName: 'a', dbName: 'other', externalSource: src, externalSpec: { format: 'jsonl' } });
    await expect(engine.createCollection({ collectionName: 'a', externalSource: src, externalSpec: { format: 'jsonl' } })).rejects.toMatchObject({ code: 'COLLECTION_EXISTS' });
    expect(await engine.listCollections()).toEqual(['a', 'b']);
    expect((await engine.describeCollection({ collectionName: 'a', dbName: 'other' })).manifestVersion).toBe(0);
    await engine.dropCollection({ collectionName: 'a' });
    expect(await engine.listCollections()).toEqual(['b']);
    await expect(engine.describeCollection({ collectionName: 'a' })).rejects.toMatchObject({ code: 'COLLECTION_NOT_FOUND' });
    expect(fs.readdirSync(path.join(engine.root, 'default'))).toEqual(['b']);
  });
});
