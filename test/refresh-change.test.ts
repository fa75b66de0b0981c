// A refresh from a chunked version that changed in a few files builds the next version from the
// change alone (src/engine/refresh-change.ts). Each case refreshes the same lake change from the same
// committed version twice (an engine holding the previous manifest, and a new engine reading the file
// index), and both versions must be the Manifest a whole build of the changed lake gives — files,
// segments and their ids, totals, schema, skipped, warnings, content hash — with the change set the
// whole-manifest path computes. Whether the change-only path was taken is seen from outside: a third copy of the root
// has every chunk entries object garbled (same size), which that path never reads and the other
// reports as an invalid previous version.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeManyParquetFiles, writeParquetFile } from '../fixtures/parquet/index.js';
import { writeParquetjsLiteFile } from '../fixtures/parquet/parquetjs-lite.js';
import { diffChanges } from '../src/manifest/build.js';
import type { ExternalSpec, Manifest, RefreshJobInfo } from '../src/types.js';
import type { FileScanner } from '../src/scanner.js';

let tmp: string;
let template: string;
let paths: string[];
let other: string; // a parquet file with another schema
let multi: string; // a parquet file of 6 row groups of 50 rows
let grouped: string; // a lake of 12 such files (parquetjs-lite writes row groups this small)

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-refresh-change-'));
  template = path.join(tmp, 'template');
  fs.mkdirSync(template);
  ({ paths } = await writeManyParquetFiles(template, 300));
  other = path.join(tmp, 'other.parquet');
  await writeParquetFile(other, { rows: 40, columns: 'all' });
  multi = path.join(tmp, 'multi.parquet');
  await writeParquetjsLiteFile(multi, 300, 50);
  grouped = path.join(tmp, 'grouped');
  for (let i = 0; i < 12; i++) await writeParquetjsLiteFile(path.join(grouped, `g${i % 2}`, `m${String(i).padStart(2, '0')}.parquet`), 100 + 50 * (i % 4), 50);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const later = (): Date => new Date(Date.now() + 60_000 + 1000 * n++);
const touch = (lake: string, rel: string): void => fs.utimesSync(path.join(lake, rel), later(), later());

async function refresh(e: RefreshEngine, spec?: ExternalSpec): Promise<RefreshJobInfo> {
  const info = await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c', ...(spec ? { externalSpec: spec } : {}) })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return info;
}

const chunksOf = (root: string): string => path.join(root, 'default', 'c', 'chunks');

/** A copy of the template lake under `tmp/<name>`, a parquet collection over it, refreshed once. */
async function refreshedCopy(name: string): Promise<{ dir: string; lake: string; root: string; e: RefreshEngine }> {
  const dir = path.join(tmp, name);
  const lake = path.join(dir, 'lake');
  fs.cpSync(template, lake, { recursive: true, preserveTimestamps: true });
  const root = path.join(dir, 'root');
  const e = new RefreshEngine({ root, workers: 0 });
  await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
  await refresh(e);
  return { dir, lake, root, e };
}
const strip = ({ createdAt: _c, jobId: _j, ...rest }: Manifest) => rest;

/**
 * Runs `change` on a fresh copy of the lake after a first refresh, then refreshes it from the change
 * (an engine holding version 1, and a new engine reading the file index) and compares both with the
 * reference: a whole build of the changed lake from nothing, and the change set the whole-manifest
 * path computes between the two versions (`diffChanges`). Returns what the new engine saw, and
 * whether it built the version without reading the previous entries.
 */
async function twin(name: string, spec: ExternalSpec, change: (lake: string) => void | Promise<void>, opts: { prepare?: (lake: string) => void; nextSpec?: ExternalSpec; from?: string } = {}) {
  const dir = path.join(tmp, name);
  const lake = path.join(dir, 'lake');
  fs.cpSync(opts.from ?? template, lake, { recursive: true, preserveTimestamps: true });
  opts.prepare?.(lake);
  const a = path.join(dir, 'a');
  const held = new RefreshEngine({ root: a, workers: 0 });
  await held.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: spec });
  const first = await refresh(held);
  expect(first.version).toBe(1);
  const m1 = await held.getManifest({ collectionName: 'c' });
  const b = path.join(dir, 'b');
  const g = path.join(dir, 'g');
  fs.cpSync(a, b, { recursive: true });
  fs.cpSync(a, g, { recursive: true });
  for (const f of fs.readdirSync(chunksOf(g)).filter((x) => x.endsWith('.c.json'))) {
    const file = path.join(chunksOf(g), f);
    fs.writeFileSync(file, 'x'.repeat(fs.statSync(file).size));
  }
  await change(lake);

  const viaHeld = await refresh(held, opts.nextSpec);
  const viaIndex = await refresh(new RefreshEngine({ root: b, workers: 0 }), opts.nextSpec);
  const garbled = await refresh(new RefreshEngine({ root: g, workers: 0 }), opts.nextSpec);
  const changeOnly = !garbled.warnings.some((w) => /is invalid and was not reused/.test(w));
  // The reference: the changed lake built whole, from nothing.
  const fresh = new RefreshEngine({ root: path.join(dir, 'fresh'), workers: 0 });
  await fresh.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: opts.nextSpec ?? spec });
  const ref = await refresh(fresh);
  const mRef = await fresh.getManifest({ collectionName: 'c' });

  for (const info of [viaHeld, viaIndex]) {
    expect(info).toMatchObject({ version: 2, committed: true, filesTotal: ref.filesTotal, filesDone: ref.filesDone });
    expect(info.skipped).toEqual(ref.skipped);
    expect(info.warnings).toEqual(ref.warnings);
    expect(info.changes).toEqual(diffChanges(m1, mRef));
  }
  const unversioned = (m: Manifest) => {
    const { version: _v, ...rest } = strip(m);
    return rest;
  };
  const mA = await new RefreshEngine({ root: a }).getManifest({ collectionName: 'c' });
  const mB = await new RefreshEngine({ root: b }).getManifest({ collectionName: 'c' });
  expect(unversioned(mB)).toEqual(unversioned(mRef));
  expect(unversioned(mA)).toEqual(unversioned(mRef));
  // A new engine reading version 2 back builds version 3 the same way again: nothing changed.
  const again = await refresh(new RefreshEngine({ root: b, workers: 0 }), opts.nextSpec);
  expect(again).toMatchObject({ committed: false, version: mB.version });
  return { a, b, lake, info: viaIndex, manifest: mB, changeOnly };
}

describe('a refresh built from the change alone gives the same manifest as one built from the whole previous version', () => {
  it('every 10th file touched', async () => {
    const r = await twin('touched', { format: 'parquet' }, (lake) => paths.filter((_, i) => i % 10 === 3).forEach((p) => touch(lake, p)));
    expect(r.changeOnly).toBe(true);
    expect(r.info.changes).toMatchObject({ files: { added: 0, removed: 0, modified: 30, unchanged: 270 }, segments: { added: 30, removed: 30 } });
    // Only the delta (index + entries of 30 files) and the root were written.
    const root = JSON.parse(fs.readFileSync(path.join(r.b, 'default', 'c', 'manifests', 'v000002.json'), 'utf8'));
    expect(root.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base', 'delta']);
    expect(root.chunks[1]).toMatchObject({ files: 30, removed: 0 });
  });

  it('a file removed, a file added in a new folder, a file whose size changed', async () => {
    const r = await twin('add-remove-resize', { format: 'parquet' }, (lake) => {
      fs.rmSync(path.join(lake, paths[17]!));
      fs.mkdirSync(path.join(lake, 'e-new'));
      fs.copyFileSync(path.join(lake, paths[5]!), path.join(lake, 'e-new', 'x.parquet'));
      fs.copyFileSync(path.join(lake, paths[6]!), path.join(lake, 'a-first.parquet')); // sorts before every base file
      fs.copyFileSync(path.join(lake, paths[41]!), path.join(lake, paths[40]!)); // other rows and size, same schema
    });
    expect(r.changeOnly).toBe(true);
    expect(r.info.changes).toMatchObject({ files: { added: 2, removed: 1, modified: 1 }, addedPaths: ['a-first.parquet', 'e-new/x.parquet'], removedPaths: [paths[17]], modifiedPaths: [paths[40]] });
    expect(r.manifest.files.map((f) => f.path)).toEqual([...r.manifest.files.map((f) => f.path)].sort());
    expect(r.manifest.totalRows).toBe(r.manifest.files.reduce((s, f) => s + f.liveRows, 0));
  });

  it('segment_max_rows: segments of changed files cut by the limit, the others carried with their ids', async () => {
    const spec = { format: 'parquet', segment_max_rows: 100 };
    const r = await twin(
      'max-rows',
      spec,
      (lake) => {
        touch(lake, 'g1/m01.parquet');
        fs.copyFileSync(multi, path.join(lake, 'g1', 'm99.parquet'));
      },
      { from: grouped },
    );
    expect(r.changeOnly).toBe(true);
    expect(r.manifest.segments.filter((s) => s.ranges[0]!.path === 'g1/m99.parquet').map((s) => s.rows)).toEqual([100, 100, 100]);
    expect(r.info.changes).toMatchObject({ files: { added: 1, modified: 1, unchanged: 11 } });
  });

  it('skip_invalid: a skipped file is tried again, one that breaks is skipped, one that is fixed is added', async () => {
    const r = await twin(
      'skipped',
      { format: 'parquet', skip_invalid: true },
      (lake) => {
        fs.writeFileSync(path.join(lake, paths[50]!), 'not parquet at all, longer than a footer length field');
        fs.copyFileSync(path.join(lake, paths[1]!), path.join(lake, 'd000', 'z-fixed.parquet'));
        touch(lake, 'd000/bad.parquet');
      },
      { prepare: (lake) => (fs.writeFileSync(path.join(lake, 'd000', 'bad.parquet'), 'garbage'), fs.writeFileSync(path.join(lake, 'd000', 'z-fixed.parquet'), 'garbage too')) },
    );
    expect(r.changeOnly).toBe(true);
    expect(r.manifest.skipped.map((s) => s.path)).toEqual(['d000/bad.parquet', paths[50]]);
    expect(r.info.changes).toMatchObject({ files: { added: 1, removed: 1 }, removedPaths: [paths[50]] });
  });

  it('a file with another schema: union by name over the whole lake, so the whole-manifest path', async () => {
    const r = await twin('schema', { format: 'parquet' }, (lake) => fs.copyFileSync(other, path.join(lake, paths[9]!)));
    expect(r.changeOnly).toBe(false);
    expect(r.manifest.fileSchemas).toHaveLength(2);
    expect(r.manifest.files.find((f) => f.path === paths[0])?.details?.missingColumns).toBeDefined();
  });

  it('a spec change never takes the change-only path', async () => {
    const r = await twin('spec', { format: 'parquet' }, (lake) => touch(lake, paths[2]!), { nextSpec: { format: 'parquet', segment_max_rows: 100 } });
    expect(r.changeOnly).toBe(false);
    expect(r.manifest.externalSpec).toEqual({ format: 'parquet', segment_max_rows: 100 });
  });

  it('a removal that leaves nothing is left to the whole-manifest path (NO_FILES keeps the previous version)', async () => {
    const dir = path.join(tmp, 'emptied');
    const lake = path.join(dir, 'lake');
    fs.mkdirSync(lake, { recursive: true });
    fs.copyFileSync(path.join(template, paths[0]!), path.join(lake, 'only.parquet'));
    const e = new RefreshEngine({ root: path.join(dir, 'root'), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await refresh(e);
    fs.rmSync(path.join(lake, 'only.parquet'));
    const fresh = new RefreshEngine({ root: path.join(dir, 'root'), workers: 0 });
    const info = await fresh.waitForRefresh((await fresh.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'NO_FILES' });
    expect((await fresh.getManifest({ collectionName: 'c' })).version).toBe(1);
  });
});

describe('damaged chunks', () => {
  it('a chunk object damaged on disk is replaced when a refresh writes the same content again (after repair)', async () => {
    const { lake, root, e } = await refreshedCopy('heal');
    const m1 = await e.getManifest({ collectionName: 'c' });
    for (const f of fs.readdirSync(chunksOf(root)).filter((x) => x.endsWith('.c.json'))) {
      const file = path.join(chunksOf(root), f);
      fs.writeFileSync(file, 'x'.repeat(fs.statSync(file).size));
    }
    const fresh = new RefreshEngine({ root, workers: 0 });
    await expect(fresh.getManifest({ collectionName: 'c' })).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
    await fresh.repairCollection({ collectionName: 'c' });
    // Nothing changed in the lake: the new version 1 has the same chunks, ids included, as the damaged one.
    const info = await refresh(fresh);
    expect(info).toMatchObject({ version: 1, committed: true });
    expect(strip(await new RefreshEngine({ root }).getManifest({ collectionName: 'c' }))).toEqual(strip(m1));
  });
});

describe('an index that does not add up', () => {
  it('file digests that do not sum to the root: the change is not built from them, the whole-manifest path gives the right version', async () => {
    const { dir, lake, root, e } = await refreshedCopy('bad-digest');
    const [idx] = fs.readdirSync(chunksOf(root)).filter((x) => x.endsWith('.i.json'));
    const file = path.join(chunksOf(root), idx!);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.digests[0] = doc.digests[0].startsWith('0') ? `1${doc.digests[0].slice(1)}` : `0${doc.digests[0].slice(1)}`; // same size
    fs.writeFileSync(file, JSON.stringify(doc));
    touch(lake, paths[0]!); // the file whose digest is wrong
    const info = await refresh(new RefreshEngine({ root, workers: 0 }));
    expect(info).toMatchObject({ version: 2, committed: true });
    const m2 = await new RefreshEngine({ root }).getManifest({ collectionName: 'c' });
    const f = new RefreshEngine({ root: path.join(dir, 'fresh'), workers: 0 });
    await f.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await refresh(f);
    const { version: _v, ...a } = strip(m2);
    const { version: _w, ...b } = strip(await f.getManifest({ collectionName: 'c' }));
    expect(a).toEqual(b); // the content hash included: it was not derived from the wrong digest
  });
});

describe('versions written by earlier layouts', () => {
  it('a single-file (format 1) previous version: loaded whole, the next version chunked, the one after from the change', async () => {
    const { dir, lake, root, e } = await refreshedCopy('format1');
    const m1 = await e.getManifest({ collectionName: 'c' });
    fs.writeFileSync(path.join(root, 'default', 'c', 'manifests', 'v000001.json'), JSON.stringify(m1));
    fs.rmSync(chunksOf(root), { recursive: true });
    touch(lake, paths[4]!);
    const v2 = await refresh(new RefreshEngine({ root, workers: 0 }));
    expect(v2).toMatchObject({ version: 2, committed: true });
    expect(v2.changes).toMatchObject({ files: { modified: 1, unchanged: 299 } });
    expect((await new RefreshEngine({ root }).getManifest({ collectionName: 'c', version: 1 })).files).toEqual(m1.files);
    touch(lake, paths[5]!);
    // Version 2 is chunked with the summary columns: version 3 is built without reading its entries.
    const saved = new Map<string, Buffer>();
    for (const f of fs.readdirSync(chunksOf(root)).filter((x) => x.endsWith('.c.json'))) {
      const file = path.join(chunksOf(root), f);
      saved.set(file, fs.readFileSync(file));
      fs.writeFileSync(file, 'x'.repeat(fs.statSync(file).size));
    }
    const v3 = await refresh(new RefreshEngine({ root, workers: 0 }));
    for (const [file, bytes] of saved) fs.writeFileSync(file, bytes);
    expect(v3).toMatchObject({ version: 3, committed: true, warnings: [] });
    expect(v3.changes).toMatchObject({ files: { modified: 1, unchanged: 299 } });
    const rootDoc = JSON.parse(fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000003.json'), 'utf8'));
    expect(rootDoc.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base', 'delta']);
    const m3 = await new RefreshEngine({ root }).getManifest({ collectionName: 'c' });
    // The same content a fresh full refresh of the lake gives.
    const f = new RefreshEngine({ root: path.join(dir, 'fresh'), workers: 0 });
    await f.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await refresh(f);
    const full = await f.getManifest({ collectionName: 'c' });
    const { version: _v, ...a } = strip(m3);
    const { version: _w, ...b } = strip(full);
    expect(a).toEqual(b);
  });

  it('a chunked version without the summary columns (as written before them): the next version is cut into fresh base chunks', async () => {
    const { lake, root, e } = await refreshedCopy('older-chunks');
    const m1 = await e.getManifest({ collectionName: 'c' });
    // Rewrite version 1 as the earlier layout: index without summary columns, root without filesDigest.
    const v1 = path.join(root, 'default', 'c', 'manifests', 'v000001.json');
    const doc = JSON.parse(fs.readFileSync(v1, 'utf8'));
    delete doc.filesDigest;
    for (const c of doc.chunks) {
      const file = path.join(chunksOf(root), `${c.id}.i.json`);
      const idx = JSON.parse(fs.readFileSync(file, 'utf8'));
      for (const k of ['rows', 'live', 'segs', 'digests']) delete idx[k];
      const text = JSON.stringify(idx);
      c.bytes += Buffer.byteLength(text) - fs.statSync(file).size;
      fs.writeFileSync(file, text);
    }
    fs.writeFileSync(v1, JSON.stringify(doc));
    expect(strip(await new RefreshEngine({ root }).getManifest({ collectionName: 'c' }))).toEqual(strip(m1));
    touch(lake, paths[7]!);
    const v2 = await refresh(new RefreshEngine({ root, workers: 0 }));
    expect(v2).toMatchObject({ version: 2, committed: true, warnings: [] });
    const r2 = JSON.parse(fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000002.json'), 'utf8'));
    expect(r2.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base']);
    expect(r2.filesDigest).toMatch(/^[0-9a-f]{16}$/);
    touch(lake, paths[8]!);
    await refresh(new RefreshEngine({ root, workers: 0 }));
    const r3 = JSON.parse(fs.readFileSync(path.join(root, 'default', 'c', 'manifests', 'v000003.json'), 'utf8'));
    expect(r3.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base', 'delta']);
  });
});

describe('a changed file whose fingerprint did not change', () => {
  it('keeps its segments (read from its chunk, verified), as a whole build does', async () => {
    const { Schema, Field, Int32 } = await import('apache-arrow');
    const schema = new Schema([new Field('a', new Int32(), true)]);
    // A scanner whose fingerprint is the content (not size or mtime), so a touched file keeps it.
    const scanner: FileScanner = {
      kind: 'file',
      format: 'stable',
      extensions: ['.txt'],
      tailBytes: 0,
      async probe(file) {
        const text = new TextDecoder().decode(await file.read(0, file.size));
        return { rows: 10, units: [{ rows: 5, byteSize: 1 }, { rows: 5, byteSize: 1 }], schema, fingerprint: `content-${text}` };
      },
    };
    const dir = path.join(tmp, 'same-fingerprint');
    const lake = path.join(dir, 'lake');
    fs.mkdirSync(lake, { recursive: true });
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(lake, `f${String(i).padStart(2, '0')}.txt`), `file ${i}`);
    const make = (root: string) => new RefreshEngine({ root: path.join(dir, root), scanners: [scanner], workers: 0 });
    const e = make('a');
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'stable', segment_max_rows: 5 } });
    await refresh(e);
    const m1 = await e.getManifest({ collectionName: 'c' });
    touch(lake, 'f03.txt'); // same content: same fingerprint, other mtime
    fs.writeFileSync(path.join(lake, 'f04.txt'), 'file 4, rewritten');
    const info = await refresh(make('a'));
    const m2 = await make('a').getManifest({ collectionName: 'c' });
    const f = make('fresh');
    await f.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'stable', segment_max_rows: 5 } });
    await refresh(f);
    const { version: _v, ...a } = strip(m2);
    const { version: _w, ...b } = strip(await f.getManifest({ collectionName: 'c' }));
    expect(a).toEqual(b);
    expect(info.changes).toEqual(diffChanges(m1, m2));
    expect(info.changes).toMatchObject({ files: { modified: 1, unchanged: 39 }, segments: { added: 2, removed: 2, kept: 78 } });
    expect(m2.segments.filter((s) => s.ranges[0]!.path === 'f03.txt').map((s) => s.id)).toEqual(m1.segments.filter((s) => s.ranges[0]!.path === 'f03.txt').map((s) => s.id));
    const r2 = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'default', 'c', 'manifests', 'v000002.json'), 'utf8'));
    expect(r2.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base', 'delta']);
  });
});
