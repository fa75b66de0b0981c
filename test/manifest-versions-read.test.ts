// Reading version files that are not what a commit writes (issue 15, survivors of the mutation run of
// src/manifest/versions.ts): JSON that is not an object, a whole format-1 manifest in one file, version 1
// read from its root alone, a root above CURRENT, versions past v999999 (whose names sort before
// v999999), and files that cannot be read or listed (ROOT_IO_ERROR saying what it could not do).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/index.js';
import { VersionStore } from '../src/manifest/versions.js';
import { rejection } from './helpers/rejection.js';
import { withVersions as versionsOf } from './helpers/engine-kit.js';

/** Versions 1 … n of a jsonl collection, all kept (50 unless said). */
const withVersions = (n: number, keepVersions = 50) => versionsOf(n, { keepVersions });

const error = rejection;

const vfile = (v: number) => `v${String(v).padStart(6, '0')}.json`;
const ref = (version?: number) => ({ collectionName: 'c', ...(version === undefined ? {} : { version }) });

describe('version files that are not manifests', () => {
  it('JSON that is not an object, or no JSON, is MANIFEST_CORRUPT naming the file for a read, a stream and a summary (not a TypeError)', async () => {
    const s = await withVersions(2);
    const file = path.join(s.manifests, vfile(1));
    for (const [text, why] of [
      ['null', 'not a JSON object'],
      ['7', 'not a JSON object'],
      ['"v"', 'not a JSON object'],
      ['not json', 'not valid JSON'],
    ] as const) {
      fs.writeFileSync(file, text);
      expect(new VersionStore(s.root, s.dir, 'default.c').fileIndex(1), text).toBeUndefined(); // a refresh then compares without it
      const engine = s.fresh();
      for (const read of [() => engine.getManifest(ref(1)), () => engine.streamManifest(ref(1)), () => engine.getManifestSummary(ref(1))]) {
        const e = await error(read());
        expect(e.code, text).toBe('MANIFEST_CORRUPT');
        expect(e.path).toBe(file);
        expect(e.message).toBe(`${file} is not a valid manifest: ${why}`);
      }
    }
  });

  it('without CURRENT, a newest version file holding null is passed over: the intact one before it is current', async () => {
    const s = await withVersions(2);
    fs.rmSync(s.current);
    fs.writeFileSync(path.join(s.manifests, vfile(2)), 'null');
    const engine = s.fresh();
    expect((await engine.getManifest(ref())).version).toBe(1);
    expect(await engine.listManifestVersions(ref())).toEqual([1]);
  });

  it('a whole format-1 manifest in one file reads, streams and summarises as the chunked version did', async () => {
    const s = await withVersions(2);
    const whole = await s.engine.getManifest(ref(1));
    expect(whole.manifestFormat).toBe(1);
    const summary = await s.engine.getManifestSummary(ref(1));
    fs.writeFileSync(path.join(s.manifests, vfile(1)), JSON.stringify(whole));
    const engine = s.fresh();
    expect(await engine.getManifest(ref(1))).toEqual(whole);
    expect(await engine.getManifestSummary(ref(1))).toEqual(summary);
    const stream = await engine.streamManifest(ref(1));
    const paths: string[] = [];
    for (const f of stream.files()) paths.push(f.file.path);
    expect(paths).toEqual(whole.files.map((f) => f.path));
  });
});

describe('which root a summary or a stream may start from', () => {
  it('version 1 is summarised and streamed from its root alone too (its chunk entries gone, only walking the files fails)', async () => {
    const s = await withVersions(1);
    const whole = await s.engine.getManifest(ref());
    const chunks = path.join(s.dir, 'chunks');
    for (const n of fs.readdirSync(chunks).filter((x) => x.endsWith('.c.json'))) fs.rmSync(path.join(chunks, n));
    const engine = s.fresh();
    for (const version of [undefined, 1]) {
      expect(await engine.getManifestSummary(ref(version))).toMatchObject({ version: 1, totalRows: whole.totalRows, files: whole.files.length });
      const stream = await engine.streamManifest(ref(version));
      expect([stream.header.version, stream.fileCount]).toEqual([1, whole.files.length]);
    }
    expect((await error(engine.getManifest(ref(1)))).code).toBe('MANIFEST_CORRUPT');
  });

  it('a sound root above CURRENT (a commit that never flipped CURRENT) is not summarised or streamed: MANIFEST_NOT_FOUND', async () => {
    const s = await withVersions(3);
    fs.writeFileSync(s.current, JSON.stringify({ version: 2 }));
    const engine = s.fresh();
    for (const read of [() => engine.getManifestSummary(ref(3)), () => engine.streamManifest(ref(3)), () => engine.getManifest(ref(3))]) {
      const e = await error(read());
      expect(e.code).toBe('MANIFEST_NOT_FOUND');
      expect(e.message).toBe('collection default.c has no manifest version 3; kept: 1, 2');
    }
    expect((await engine.getManifestSummary(ref())).version).toBe(2);
  });
});

describe('listing versions', () => {
  it('lists versions in numeric order past v999999 (names sort otherwise), and recovers the numerically newest intact one without CURRENT', async () => {
    const s = await withVersions(1);
    const whole = await s.engine.getManifest(ref(1));
    for (const v of [999_999, 1_000_000]) fs.writeFileSync(path.join(s.manifests, `v${v}.json`), JSON.stringify({ ...whole, version: v }));
    expect(fs.readdirSync(s.manifests).filter((n) => n.startsWith('v'))).toEqual(['v000001.json', 'v1000000.json', 'v999999.json']);
    fs.writeFileSync(s.current, JSON.stringify({ version: 1_000_000 }));
    expect(await s.fresh().listManifestVersions(ref())).toEqual([1, 999_999, 1_000_000]);
    fs.rmSync(s.current);
    const engine = s.fresh();
    expect((await engine.getManifest(ref())).version).toBe(1_000_000);
    expect(await engine.listManifestVersions(ref())).toEqual([1, 999_999, 1_000_000]);
  });
});

describe('files that cannot be read or listed', () => {
  it('ROOT_IO_ERROR says what could not be done to which file: read CURRENT, read a version, list manifests', async () => {
    const s = await withVersions(1);
    const store = new VersionStore(s.root, s.dir, 'default.c');
    expect(store.load(7)).toEqual({ problems: ['the file is missing'] });

    const v1 = path.join(s.manifests, vfile(1));
    fs.rmSync(v1);
    fs.mkdirSync(v1);
    let e = catching(() => store.load(1));
    expect([e.code, e.path]).toEqual(['ROOT_IO_ERROR', v1]);
    expect(e.message).toMatch(new RegExp(`^cannot read ${escape(v1)} in the metadata root ${escape(s.root)}: EISDIR`));

    fs.rmSync(s.current);
    fs.mkdirSync(s.current);
    e = catching(() => store.named());
    expect([e.code, e.path]).toEqual(['ROOT_IO_ERROR', s.current]);
    expect(e.message).toMatch(new RegExp(`^cannot read ${escape(s.current)} in the metadata root ${escape(s.root)}: EISDIR`));

    fs.rmSync(s.manifests, { recursive: true });
    fs.writeFileSync(s.manifests, '');
    e = catching(() => store.onDisk());
    expect([e.code, e.path]).toEqual(['ROOT_IO_ERROR', s.manifests]);
    expect(e.message).toMatch(new RegExp(`^cannot list ${escape(s.manifests)} in the metadata root ${escape(s.root)}: ENOTDIR`));
  });
});

function catching(f: () => unknown): LakemapError {
  try {
    f();
  } catch (e) {
    expect(LakemapError.is(e), `expected a LakemapError, got ${String(e)}`).toBe(true);
    return e as LakemapError;
  }
  throw new Error('expected an error');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
