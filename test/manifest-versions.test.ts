// The version files and the CURRENT pointer as a user meets them (issue 15, mutation testing of
// src/manifest/versions.ts): which versions can be read and what a wrong one says, a CURRENT that names
// no version, version files a crash left above CURRENT, names that are not version files, and summaries
// of chunked versions that must agree with the version they summarise.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from '../src/index.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { rejection } from './helpers/rejection.js';

async function withVersions(n: number, keepVersions?: number) {
  const root = tempDir();
  const source = tempDir();
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0, ...(keepVersions ? { keepVersions } : {}) });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  for (let v = 1; v <= n; v++) {
    writeJsonl(path.join(source, `part-${v}.jsonl`), 10, v * 10);
    const info = await refresh(engine);
    expect(info.version).toBe(v);
    expect(info.warnings).toEqual([]); // in particular no "CURRENT was missing" for a new collection

  }
  const dir = path.join(root, 'default', 'c');
  return { root, source, engine, dir, manifests: path.join(dir, 'manifests'), current: path.join(dir, 'CURRENT') };
}

async function refresh(engine: RefreshEngine) {
  return engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
}

const error = rejection;

const vfile = (v: number) => `v${String(v).padStart(6, '0')}.json`;

describe('reading a version', () => {
  it('every kept version reads back, the current one by default; any other number is MANIFEST_NOT_FOUND listing the kept ones', async () => {
    const s = await withVersions(4, 2);
    const ref = { collectionName: 'c' };
    expect(await s.engine.listManifestVersions(ref)).toEqual([3, 4]);
    expect((await s.engine.getManifest(ref)).version).toBe(4);
    expect((await s.engine.getManifest({ ...ref, version: 3 })).version).toBe(3);
    expect((await s.engine.getManifestSummary({ ...ref, version: 3 })).version).toBe(3);
    for (const version of [0, -1, 1, 2, 1.5, 5, Number.NaN]) {
      for (const read of [
        () => s.engine.getManifest({ ...ref, version }),
        () => s.engine.getManifestSummary({ ...ref, version }),
        () => s.engine.streamManifest({ ...ref, version }),
      ]) {
        const e = await error(read());
        expect(e.code, `version ${version}`).toBe('MANIFEST_NOT_FOUND');
        expect(e.message).toContain(`has no manifest version ${version}; kept: 3, 4`);
      }
    }
  });

  it('a collection never refreshed has no manifest: MANIFEST_NOT_FOUND saying to refresh', async () => {
    const s = await withVersions(0);
    for (const read of [() => s.engine.getManifest({ collectionName: 'c' }), () => s.engine.getManifest({ collectionName: 'c', version: 1 })]) {
      const e = await error(read());
      expect(e.code).toBe('MANIFEST_NOT_FOUND');
      expect(e.message).toMatch(/has no manifest yet: refresh it first/);
    }
    expect(await s.engine.listManifestVersions({ collectionName: 'c' })).toEqual([]);
  });

  it('a version file that is not a manifest is MANIFEST_CORRUPT naming the file and why', async () => {
    const s = await withVersions(2);
    const file = path.join(s.manifests, vfile(1));
    for (const [text, why] of [
      ['{"manifestFormat":1,', /not valid JSON/],
      ['{"manifestFormat":2,"version":1,"chunks":[{"id":"nope","bytes":3}]}', /its chunks cannot be read/],
    ] as const) {
      fs.writeFileSync(file, text);
      const e = await error(s.engine.getManifest({ collectionName: 'c', version: 1 }));
      expect(e.code).toBe('MANIFEST_CORRUPT');
      expect(e.path).toBe(file);
      expect(e.message).toMatch(why);
    }
    fs.rmSync(file);
    expect((await error(s.engine.getManifest({ collectionName: 'c', version: 1 }))).code).toBe('MANIFEST_NOT_FOUND');
    // one that cannot be read at all (EISDIR here, as EACCES or EIO would fail) is the root's I/O error, not "missing"
    fs.mkdirSync(file);
    const e = await error(s.engine.getManifest({ collectionName: 'c', version: 1 }));
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.path).toBe(file);
  });

  it('a summary is the one of the version asked for: a root copied from another version is refused, not summarised', async () => {
    const s = await withVersions(2);
    const full = await s.engine.getManifest({ collectionName: 'c', version: 2 });
    const summary = await s.engine.getManifestSummary({ collectionName: 'c' });
    expect(summary).toMatchObject({ version: 2, totalRows: full.totalRows, files: full.files.length, segments: full.segments.length });
    // version 1's root under version 2's name: its chunks are all there, but it is not version 2
    fs.copyFileSync(path.join(s.manifests, vfile(1)), path.join(s.manifests, vfile(2)));
    const fresh = new RefreshEngine({ root: s.root, scanners: [jsonlScanner], workers: 0 }); // no manifest cached in memory
    for (const read of [() => fresh.getManifestSummary({ collectionName: 'c' }), () => fresh.getManifest({ collectionName: 'c' })]) {
      const e = await error(read());
      expect(e.code).toBe('MANIFEST_CORRUPT');
      expect(e.path).toBe(path.join(s.manifests, vfile(2)));
    }
  });

  it('streams a chunked version chunk by chunk to the same files and segments as reading it whole', async () => {
    const s = await withVersions(3);
    for (const version of [undefined, 2]) {
      const whole = await s.engine.getManifest({ collectionName: 'c', ...(version ? { version } : {}) });
      const stream = await s.engine.streamManifest({ collectionName: 'c', ...(version ? { version } : {}) });
      const files: string[] = [];
      for (const f of stream.files()) files.push(f.file.path);
      expect(files).toEqual(whole.files.map((f) => f.path));
    }
  });
});

describe('reading a chunked version from its root alone', () => {
  it('a summary and a stream start from the root without reading chunk entries; walking the files reads them (a missing one is MANIFEST_CORRUPT then)', async () => {
    const s = await withVersions(3);
    const whole = await s.engine.getManifest({ collectionName: 'c' });
    const chunks = path.join(s.dir, 'chunks');
    const entries = fs.readdirSync(chunks).filter((n) => n.endsWith('.c.json'));
    expect(entries.length).toBeGreaterThan(0);
    for (const n of entries) fs.rmSync(path.join(chunks, n));
    const fresh = new RefreshEngine({ root: s.root, scanners: [jsonlScanner], workers: 0 }); // nothing cached
    for (const version of [undefined, 3]) {
      const ref = { collectionName: 'c', ...(version ? { version } : {}) };
      expect(await fresh.getManifestSummary(ref)).toMatchObject({ version: 3, totalRows: whole.totalRows, files: whole.files.length, segments: whole.segments.length });
      const stream = await fresh.streamManifest(ref);
      expect([stream.header.version, stream.fileCount, stream.segmentCount]).toEqual([3, whole.files.length, whole.segments.length]);
      let e: unknown;
      try {
        for (const _ of stream.files()) void _;
      } catch (err) {
        e = err;
      }
      expect(LakemapError.is(e) && e.code).toBe('MANIFEST_CORRUPT');
    }
    // a whole read needs the entries: it says why
    expect((await error(fresh.getManifest({ collectionName: 'c' }))).code).toBe('MANIFEST_CORRUPT');
  });
});

describe('CURRENT', () => {
  for (const text of ['{"version":0}', '{"version":-2}', '{"version":1.5}', '{"version":"2"}', '{}', 'null', '[2]', 'not json']) {
    it(`holding ${text} is MANIFEST_CORRUPT naming CURRENT and repair`, async () => {
      const s = await withVersions(2);
      fs.writeFileSync(s.current, text);
      for (const p of [s.engine.getManifest({ collectionName: 'c' }), s.engine.refreshExternalCollection({ collectionName: 'c' })]) {
        const e = await error(p);
        expect(e.code).toBe('MANIFEST_CORRUPT');
        expect(e.path).toBe(s.current);
        expect(e.message).toMatch(/does not hold a manifest version: run "lakemap repair"/);
      }
    });
  }

  it('missing, with no intact version file: MANIFEST_CORRUPT naming CURRENT and repair (not an empty collection)', async () => {
    const s = await withVersions(2);
    fs.rmSync(s.current);
    for (const v of [1, 2]) fs.writeFileSync(path.join(s.manifests, vfile(v)), '{"not":"a manifest"}');
    const e = await error(s.engine.getManifest({ collectionName: 'c' }));
    expect(e.code).toBe('MANIFEST_CORRUPT');
    expect(e.path).toBe(s.current);
    expect(e.message).toMatch(/is missing and no version file of .* is intact: run "lakemap repair"/);
  });

  it('missing: the newest intact version is current, and files that are not version files are not versions', async () => {
    const s = await withVersions(2);
    for (const n of ['v3.json', 'v00003.json', 'v000003.json.bak', 'xv000003.json', 'v000003.jsonx', 'notes.txt']) fs.writeFileSync(path.join(s.manifests, n), '{}');
    fs.rmSync(s.current);
    expect((await s.engine.getManifest({ collectionName: 'c' })).version).toBe(2);
    expect(await s.engine.listManifestVersions({ collectionName: 'c' })).toEqual([1, 2]);
    // the next refresh continues from 2, over names that only look like version 3
    expect(await refresh(s.engine)).toMatchObject({ state: 'RefreshCompleted', version: 3 });
  });
});

describe('what a crash leaves behind', () => {
  it('a version file above CURRENT is not a version: not listed, not readable, set aside by the next refresh, never reused', async () => {
    const s = await withVersions(2);
    const orphan = path.join(s.manifests, vfile(3));
    fs.copyFileSync(path.join(s.manifests, vfile(2)), orphan);
    const text = fs.readFileSync(orphan, 'utf8');
    expect(await s.engine.listManifestVersions({ collectionName: 'c' })).toEqual([1, 2]);
    for (const read of [
      () => s.engine.getManifest({ collectionName: 'c', version: 3 }),
      () => s.engine.getManifestSummary({ collectionName: 'c', version: 3 }),
      () => s.engine.streamManifest({ collectionName: 'c', version: 3 }),
    ]) {
      expect((await error(read())).code).toBe('MANIFEST_NOT_FOUND');
    }
    // Temporaries of a writer that died are removed; one of a live process (this one) is left.
    const dead = path.join(s.manifests, `.tmp-${vfile(9)}-4194303-aaaaaaaaaaaa`);
    const deadTop = path.join(s.dir, '.tmp-CURRENT-4194303-bbbbbbbbbbbb');
    const live = path.join(s.manifests, `.tmp-${vfile(9)}-${process.pid}-cccccccccccc`);
    for (const f of [dead, deadTop, live]) fs.writeFileSync(f, 'x');

    writeJsonl(path.join(s.source, 'part-9.jsonl'), 5);
    const info = await refresh(s.engine);
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 3 });
    const names = fs.readdirSync(s.manifests);
    const aside = names.filter((n) => /^\.uncommitted-v000003-[0-9a-f]{8}\.json$/.test(n));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(s.manifests, aside[0]!), 'utf8')).toBe(text);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(deadTop)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    expect((await s.engine.getManifest({ collectionName: 'c' })).totalRows).toBe(25);
    expect(await s.engine.listManifestVersions({ collectionName: 'c' })).toEqual([1, 2, 3]);
  });
});
