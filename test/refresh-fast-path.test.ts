// A no-change refresh decides from the previous version's file index alone (no chunk entries read),
// yet never trusts an index it cannot check; `show --json` streams chunk by chunk; `diff` and
// `summary` on the CLI.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { runCli } from '../src/cli/main.js';
import { writeManifestJson, streamManifest } from '../src/manifest/stream.js';
import { sameFiles, indexOfManifest } from '../src/manifest/file-index.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

let tmp: string;
let lake: string;
let paths: string[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-fast-path-'));
  lake = path.join(tmp, 'lake');
  fs.mkdirSync(lake);
  ({ paths } = await writeManyParquetFiles(lake, 120));
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function setup(name: string) {
  const root = path.join(tmp, name);
  const engine = new RefreshEngine({ root, workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
  const dir = path.join(root, 'default', 'c');
  const refreshWith = async (e: RefreshEngine) => {
    const info = await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    return info;
  };
  return { root, engine, refreshWith, refresh: () => refreshWith(engine), chunks: path.join(dir, 'chunks') };
}

const touch = (p: string, ms: number): void => fs.utimesSync(path.join(lake, p), new Date(ms), new Date(ms));

/** Overwrites every chunk entries object with the same number of bytes of garbage. */
function garbleEntries(chunks: string): void {
  for (const n of fs.readdirSync(chunks).filter((x) => x.endsWith('.c.json'))) {
    const f = path.join(chunks, n);
    fs.writeFileSync(f, 'x'.repeat(fs.statSync(f).size));
  }
}

describe('no-change refresh from the file index', () => {
  it('a new engine finds nothing changed without reading any chunk entries', async () => {
    const s = await setup('index-only');
    await s.refresh();
    const m = await s.engine.getManifest({ collectionName: 'c' });
    // Entries unparseable but of the right size: only a refresh that never parses them can succeed quietly.
    garbleEntries(s.chunks);
    const info = await s.refreshWith(new RefreshEngine({ root: s.root, workers: 0 }));
    expect(info).toMatchObject({ version: 1, committed: false, warnings: [], filesTotal: 120, filesDone: 120 });
    expect(info.changes).toMatchObject({ files: { added: 0, removed: 0, modified: 0, unchanged: 120 }, segments: { added: 0, removed: 0, kept: m.segments.length } });
  });

  it('once a file changed, unchanged chunks are carried over by id and size unread; damage in them is caught when read, and repair plus a refresh rewrite them', async () => {
    const s = await setup('then-validated');
    await s.refresh();
    garbleEntries(s.chunks);
    touch(paths[3]!, Date.now() + 60_000);
    // Built from the change: the garbled (same-size) entries are not read, so not found here...
    const info = await s.refreshWith(new RefreshEngine({ root: s.root, workers: 0 }));
    expect(info).toMatchObject({ version: 2, committed: true, warnings: [] });
    expect(info.changes).toMatchObject({ files: { added: 0, removed: 0, modified: 1, unchanged: 119 } });
    // ...but by the first reader of the version, never served.
    await expect(new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' })).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
    // Repair sets the broken versions aside; the next refresh reads every file and replaces the damaged object.
    const e = new RefreshEngine({ root: s.root, workers: 0 });
    await e.repairCollection({ collectionName: 'c' });
    const again = await s.refreshWith(e);
    expect(again.committed).toBe(true);
    const v = await new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' });
    expect(v.files).toHaveLength(120);
  });

  it('does not trust an index whose chunk objects do not add up to the bytes the root lists', async () => {
    const s = await setup('truncated');
    await s.refresh();
    const [entries] = fs.readdirSync(s.chunks).filter((n) => n.endsWith('.c.json'));
    const f = path.join(s.chunks, entries!);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').slice(0, -10));
    const info = await s.refreshWith(new RefreshEngine({ root: s.root, workers: 0 }));
    expect(info).toMatchObject({ version: 2, committed: true });
    expect(info.warnings.join('\n')).toMatch(/is invalid and was not reused/);
  });

  it('does not trust an index that disagrees with its root', async () => {
    const s = await setup('bad-index');
    await s.refresh();
    const [idx] = fs.readdirSync(s.chunks).filter((n) => n.endsWith('.i.json'));
    const f = path.join(s.chunks, idx!);
    const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
    doc.paths[1] = doc.paths[0]; // a path twice, same byte count
    fs.writeFileSync(f, JSON.stringify(doc));
    const info = await s.refreshWith(new RefreshEngine({ root: s.root, workers: 0 }));
    expect(info).toMatchObject({ version: 2, committed: true });
  });

  it('in-process: nothing changed commits nothing; a changed spec or a touched file commits', async () => {
    const s = await setup('in-process');
    await s.refresh();
    expect(await s.refresh()).toMatchObject({ version: 1, committed: false });
    touch(paths[5]!, Date.now() + 120_000);
    const touched = await s.refresh();
    expect(touched).toMatchObject({ version: 2, committed: true });
    expect(touched.changes?.files).toMatchObject({ modified: 1, unchanged: 119 });
    const spec = await s.engine.waitForRefresh(
      (await s.engine.refreshExternalCollection({ collectionName: 'c', externalSpec: { format: 'parquet', segment_max_rows: 7 } })).jobId,
    );
    expect(spec).toMatchObject({ state: 'RefreshCompleted', version: 3, committed: true });
    // A new file and a removed one are both seen.
    fs.copyFileSync(path.join(lake, paths[0]!), path.join(lake, 'zz-new.parquet'));
    try {
      expect((await s.refresh()).changes?.files).toMatchObject({ added: 1 });
    } finally {
      fs.rmSync(path.join(lake, 'zz-new.parquet'));
    }
    expect((await s.refresh()).changes?.files).toMatchObject({ removed: 1 });
  });

  it('sameFiles compares sizes, mtimes and ETags, in listing order or not', () => {
    const m = { files: [{ path: 'a', sizeBytes: 1, mtimeMs: 2 }, { path: 'b', sizeBytes: 3, mtimeMs: 4, etag: 'e' }], segments: [] } as never;
    const idx = indexOfManifest(m);
    expect(sameFiles(idx, [{ path: 'a', size: 1, mtimeMs: 2 }, { path: 'b', size: 3, mtimeMs: 4, etag: 'e' }])).toBe(true);
    expect(sameFiles(idx, [{ path: 'b', size: 3, mtimeMs: 4, etag: 'e' }, { path: 'a', size: 1, mtimeMs: 2 }])).toBe(true);
    expect(sameFiles(idx, [{ path: 'a', size: 1, mtimeMs: 2 }, { path: 'b', size: 3, mtimeMs: 4, etag: 'f' }])).toBe(false);
    expect(sameFiles(idx, [{ path: 'a', size: 1, mtimeMs: 3 }, { path: 'b', size: 3, mtimeMs: 4, etag: 'e' }])).toBe(false);
    expect(sameFiles(idx, [{ path: 'b', size: 3, mtimeMs: 4, etag: 'e' }, { path: 'c', size: 1, mtimeMs: 2 }])).toBe(false);
    expect(sameFiles(idx, [{ path: 'a', size: 1, mtimeMs: 2 }])).toBe(false);
  });

  it('indexOfManifest makes a held manifest\'s index once, and again for other files', () => {
    const m = { files: [{ path: 'a', sizeBytes: 1, mtimeMs: 2 }], segments: [] } as unknown as { files: unknown[]; segments: unknown[] };
    const idx = indexOfManifest(m as never);
    expect(indexOfManifest(m as never)).toBe(idx); // an engine's repeated no-change refreshes
    m.files = [{ path: 'a', sizeBytes: 1, mtimeMs: 2 }, { path: 'b', sizeBytes: 3, mtimeMs: 4 }];
    const again = indexOfManifest(m as never);
    expect(again.paths).toEqual(['a', 'b']);
    expect(again.sizes).toEqual([1, 3]);
    m.segments = [{ id: 's', rows: 1, ranges: [{ path: 'a', rowOffset: 0, rows: 1 }] }];
    expect(indexOfManifest(m as never).segmentCount).toBe(1);
  });
});

/** A CLI io that collects stdout/stderr; stdout's buffer is tiny so the writer must wait for drain. */
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new Writable({ highWaterMark: 16, write: (c, _e, cb) => (out.push(String(c)), void setImmediate(cb)) });
  const stderr = new Writable({ write: (c, _e, cb) => (err.push(String(c)), cb()) });
  return { io: { stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

describe('show --json, diff and summary on the CLI', () => {
  it('show --json streams a chunked version (base + delta) as the same JSON as getManifest', async () => {
    const s = await setup('show');
    await s.refresh();
    touch(paths[9]!, Date.now() + 180_000);
    await s.refresh();
    // Read back by a new engine, so the manifest is the one assembled from disk (same key order).
    const m = await new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' });
    const c = capture();
    expect(await runCli(['show', 'c', '--json', '--root', s.root], c.io)).toBe(0);
    expect(c.out()).toBe(`${JSON.stringify(m, null, 2)}\n`);
    expect(JSON.parse(c.out())).toEqual(await s.engine.getManifest({ collectionName: 'c' }));
    const c1 = capture();
    expect(await runCli(['show', 'c', '--json', '--version', '1', '--root', s.root], c1.io)).toBe(0);
    expect(c1.out()).toBe(`${JSON.stringify(await s.engine.getManifest({ collectionName: 'c', version: 1 }), null, 2)}\n`);
  });

  it('show --json fails with MANIFEST_CORRUPT on a damaged chunk', async () => {
    const s = await setup('show-bad');
    await s.refresh();
    const [entries] = fs.readdirSync(s.chunks).filter((n) => n.endsWith('.c.json'));
    const f = path.join(s.chunks, entries!);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"rows":', '"rows":-'));
    const c = capture();
    expect(await runCli(['show', 'c', '--json', '--root', s.root], c.io)).toBe(1);
    expect(c.out() + c.err()).toMatch(/MANIFEST_CORRUPT/);
  });

  it('writeManifestJson writes a format-1 manifest as JSON.stringify does, in small pieces', async () => {
    const s = await setup('writer');
    await s.refresh();
    const m = await s.engine.getManifest({ collectionName: 'c' });
    const pieces: string[] = [];
    await writeManifestJson(streamManifest(m), (t) => void pieces.push(t), 256);
    expect(pieces.length).toBeGreaterThan(10);
    expect(JSON.parse(pieces.join(''))).toEqual(m);
  });

  it('diff lists what changed between two versions; summary reads a version', async () => {
    const s = await setup('diff');
    await s.refresh();
    touch(paths[11]!, Date.now() + 240_000);
    await s.refresh();
    const c = capture();
    expect(await runCli(['diff', 'c', '1', '2', '--json', '--root', s.root], c.io)).toBe(0);
    const d = JSON.parse(c.out());
    expect(d).toMatchObject({ fromVersion: 1, toVersion: 2, files: { added: [], removed: [], modified: [paths[11]], kept: 119 } });
    expect(d.segments.added.map((x: { ranges: { path: string }[] }) => x.ranges[0]!.path)).toEqual([paths[11]]);
    const t = capture();
    expect(await runCli(['diff', 'c', '1', '2', '--root', s.root], t.io)).toBe(0);
    expect(t.out()).toContain(`~ ${paths[11]}`);
    expect(t.out()).toMatch(/files: 0 added, 0 removed, 1 modified, 119 kept/);
    const bad = capture();
    expect(await runCli(['diff', 'c', '1', 'x', '--root', s.root], bad.io)).toBe(2);

    const m = await s.engine.getManifest({ collectionName: 'c', version: 1 });
    const sj = capture();
    expect(await runCli(['summary', 'c', '--version', '1', '--json', '--root', s.root], sj.io)).toBe(0);
    expect(JSON.parse(sj.out())).toMatchObject({ version: 1, files: 120, segments: m.segments.length, totalRows: m.totalRows });
    const st = capture();
    expect(await runCli(['summary', 'c', '--root', s.root], st.io)).toBe(0);
    expect(st.out()).toMatch(/manifest version 2 .*\n.*\nrows \d+, files 120, segments \d+/);
  });
});
