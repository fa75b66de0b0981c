// `changedPaths` on a refresh: when the hint is used and when the whole source is listed instead (the
// job's `hint` says which, and why), hints refused at the call, a hint that omits a change (the change
// waits for the next unhinted refresh), files skipped earlier looked at again, and two engines racing
// a hinted and a full refresh on one root. test/refresh-hinted-oracle.test.ts compares hinted and full
// refreshes over random changes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { LakemapError } from '../src/errors.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable } from '../fixtures/iceberg/sample-tables.js';
import type { ExternalSpec, Manifest, RefreshJobInfo, RefreshRequest } from '../src/types.js';
import { parquetTemplates } from './helpers/parquet-templates.js';
import { tempDir } from './helpers/tmp.js';

let templates: Buffer[] = [];
beforeAll(async () => {
  templates = await parquetTemplates(3, (t) => 30 + 10 * t);
}, 120_000);

let clock = Date.now() + 60_000;
function put(lake: string, rel: string, t = 0): void {
  const abs = path.join(lake, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, templates[t]!);
  clock += 1000;
  fs.utimesSync(abs, new Date(clock), new Date(clock));
}

/** A lake of 8 files in two directories and a collection over it, refreshed once. */
async function setup(spec: ExternalSpec = { format: 'parquet' }, root = tempDir()): Promise<{ lake: string; e: RefreshEngine; root: string }> {
  const lake = tempDir();
  for (let i = 0; i < 8; i++) put(lake, `${i < 4 ? 'a' : 'b'}/f${i}.parquet`, i % 3);
  const e = new RefreshEngine({ root, workers: 0 });
  await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: spec });
  expect((await refresh(e)).state).toBe('RefreshCompleted');
  return { lake, e, root };
}

async function refresh(e: RefreshEngine, req: Partial<RefreshRequest> = {}): Promise<RefreshJobInfo> {
  return e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c', ...req })).jobId);
}

const strip = (m: Manifest) => {
  const { createdAt: _c, jobId: _j, version: _v, ...rest } = m;
  return rest;
};

/** The manifest a fresh engine builds from the whole lake. */
async function reference(lake: string, spec: ExternalSpec = { format: 'parquet' }): Promise<Manifest> {
  const e = new RefreshEngine({ root: tempDir(), workers: 0 });
  await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: spec });
  expect((await refresh(e)).state).toBe('RefreshCompleted');
  return e.getManifest({ collectionName: 'c' });
}

describe('a hinted refresh', () => {
  it('looks at the hinted paths only, records it on the job, and commits what a full refresh would', async () => {
    const { lake, e } = await setup();
    put(lake, 'a/f1.parquet', 2); // rewritten
    put(lake, 'c/new.parquet', 1); // added in a new directory
    fs.rmSync(path.join(lake, 'b'), { recursive: true }); // a directory removed
    const info = await refresh(e, { changedPaths: ['a/f1.parquet', 'c', 'b'] });
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.hint).toEqual({ listing: 'hinted', paths: 3 });
    expect(info.changes?.files).toMatchObject({ added: 1, modified: 1, removed: 4, unchanged: 3 });
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
    // The job record other engines and processes read says so too.
    const other = new RefreshEngine({ root: e.root });
    expect(other.getRefreshExternalCollectionProgress(info.jobId).hint).toEqual({ listing: 'hinted', paths: 3 });
  });

  it('with an empty list, says nothing changed and commits nothing', async () => {
    const { e } = await setup();
    const info = await refresh(e, { changedPaths: [] });
    expect(info).toMatchObject({ state: 'RefreshCompleted', committed: false, version: 1, hint: { listing: 'hinted', paths: 0 } });
  });

  it('from a new engine reading the chunked file index, as from the engine holding the manifest', async () => {
    const { lake, e, root } = await setup();
    put(lake, 'a/f2.parquet', 1);
    await e.close();
    const fresh = new RefreshEngine({ root, workers: 0 });
    const info = await refresh(fresh, { changedPaths: ['a/f2.parquet'] });
    expect(info).toMatchObject({ state: 'RefreshCompleted', committed: true, hint: { listing: 'hinted' } });
    expect(strip(await fresh.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });

  it('leaves a change the hint omits unseen until the next refresh without a hint', async () => {
    const { lake, e } = await setup();
    put(lake, 'a/f0.parquet', 2); // not in the hint
    put(lake, 'a/g.parquet', 0);
    const lied = await refresh(e, { changedPaths: ['a/g.parquet'] });
    expect(lied).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'hinted' } });
    expect(lied.changes).toMatchObject({ addedPaths: ['a/g.parquet'], modifiedPaths: [] });
    const m = await e.getManifest({ collectionName: 'c' });
    expect(m.files.find((f) => f.path === 'a/f0.parquet')!.rows).toBe(30); // as before
    const full = await refresh(e);
    expect(full.hint).toBeUndefined();
    expect(full.changes).toMatchObject({ modifiedPaths: ['a/f0.parquet'] });
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });

  it('offers files skipped earlier to the scanner again, as a full listing does', async () => {
    const spec = { format: 'parquet', skip_invalid: true };
    const { lake, e } = await setup(spec);
    fs.writeFileSync(path.join(lake, 'a', 'bad.parquet'), 'not parquet at all');
    expect((await refresh(e)).skipped.map((s) => s.path)).toEqual(['a/bad.parquet']);
    put(lake, 'b/f9.parquet', 1);
    const info = await refresh(e, { changedPaths: ['b/f9.parquet'] });
    expect(info).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'hinted' } });
    expect(info.skipped.map((s) => s.path)).toEqual(['a/bad.parquet']);
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake, spec)));
    // Fixed without a hint naming it: the hinted refresh still looks at it.
    put(lake, 'a/bad.parquet', 0);
    const fixed = await refresh(e, { changedPaths: [] });
    expect(fixed).toMatchObject({ state: 'RefreshCompleted', skipped: [], hint: { listing: 'hinted' } });
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake, spec)));
  });

  it('applies the files globs and the listing rules to hinted paths', async () => {
    const spec = { format: 'parquet', files: ['a/**/*.parquet'] };
    const { lake, e } = await setup(spec);
    put(lake, 'b/skip.parquet'); // outside the glob
    put(lake, 'a/_tmp/x.parquet'); // under a `_` directory
    put(lake, 'a/.x.parquet'); // hidden
    put(lake, 'a/deep/y.parquet'); // matched
    expect(spawnSync('mkfifo', [path.join(lake, 'a', 'fifo.parquet')]).status).toBe(0); // not a regular file: never listed
    const info = await refresh(e, { changedPaths: ['b/skip.parquet', 'a/_tmp/x.parquet', 'a/.x.parquet', 'a'] });
    expect(info).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'hinted' } });
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake, spec)));
  });
});

describe('a hint that leads outside the source', () => {
  it('is refused at the call with PATH_ESCAPE when absolute or climbing out; INVALID_ARGUMENT when not a list of strings', async () => {
    const { e } = await setup();
    for (const bad of [['../x.parquet'], ['a/../../x'], ['/etc/passwd']]) {
      await expect(e.refreshExternalCollection({ collectionName: 'c', changedPaths: bad })).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
    }
    await expect(e.refreshExternalCollection({ collectionName: 'c', changedPaths: 'a' as unknown as string[] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(e.refreshExternalCollection({ collectionName: 'c', changedPaths: [3] as unknown as string[] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Refused before a job existed: the collection is free to refresh.
    expect((await refresh(e)).state).toBe('RefreshCompleted');
  });

  it('fails the job with PATH_ESCAPE through a symlink leading outside, as the full listing does', async () => {
    const { lake, e } = await setup();
    const outside = tempDir();
    put(outside, 'o.parquet');
    fs.symlinkSync(outside, path.join(lake, 'a', 'out'));
    const viaLink = await refresh(e, { changedPaths: ['a/out/o.parquet'] });
    expect(viaLink).toMatchObject({ state: 'RefreshFailed', errorCode: 'PATH_ESCAPE' });
    const link = await refresh(e, { changedPaths: ['a/out'] });
    expect(link).toMatchObject({ state: 'RefreshFailed', errorCode: 'PATH_ESCAPE' });
    expect((await refresh(e)).errorCode).toBe('PATH_ESCAPE');
    // A link inside the source is followed, as the full listing follows it.
    fs.rmSync(path.join(lake, 'a', 'out'));
    fs.symlinkSync(path.join(lake, 'b'), path.join(lake, 'a', 'in'));
    const inside = await refresh(e, { changedPaths: ['a/out', 'a/in'] });
    expect(inside).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'hinted' } });
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });
});

describe('the whole source is listed instead', () => {
  const full = (info: RefreshJobInfo, reason: RegExp): void => {
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.hint?.listing).toBe('full');
    expect(info.hint?.reason).toMatch(reason);
  };

  it('when there is no current version', async () => {
    const lake = tempDir();
    put(lake, 'a.parquet');
    const e = new RefreshEngine({ root: tempDir(), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    full(await refresh(e, { changedPaths: ['a.parquet'] }), /no current version/);
  });

  it('when the request replaces the spec or the source', async () => {
    const { lake, e } = await setup();
    put(lake, 'a/n.parquet');
    full(await refresh(e, { changedPaths: ['a/n.parquet'], externalSpec: { format: 'parquet', segment_max_rows: 7 } }), /replaces the source or spec/);
    full(await refresh(e, { changedPaths: [], externalSource: lake }), /replaces the source or spec/);
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake, { format: 'parquet', segment_max_rows: 7 })));
  });

  it('when a path is the source root', async () => {
    const { lake, e } = await setup();
    put(lake, 'z.parquet');
    full(await refresh(e, { changedPaths: ['.'] }), /source root/);
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });

  it('when there are more paths than the hinted listing takes', async () => {
    const { lake, e } = await setup();
    put(lake, 'a/m.parquet');
    const many = Array.from({ length: 100 }, (_, i) => `nowhere/${i}`);
    full(await refresh(e, { changedPaths: ['a/m.parquet', ...many] }), /101 changed paths, more than the 64/);
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });

  it('with verify "footer"', async () => {
    const spec = { format: 'parquet', verify: 'footer' };
    const { lake, e } = await setup(spec);
    put(lake, 'a/v.parquet');
    full(await refresh(e, { changedPaths: ['a/v.parquet'] }), /verify/);
  });

  it('when the current version has warnings (a name that is not UTF-8), which only a full listing renews', async () => {
    const { lake, e } = await setup();
    fs.writeFileSync(Buffer.concat([Buffer.from(path.join(lake, 'a') + '/'), Buffer.from([0x66, 0xff, 0x2e, 0x70])]), 'x');
    put(lake, 'a/f0.parquet', 1); // a version is committed, with the listing's warning
    const first = await refresh(e);
    expect((await e.getManifest({ collectionName: 'c' })).warnings.join('\n')).toMatch(/not valid UTF-8/);
    expect(first.warnings.join('\n')).toMatch(/not valid UTF-8/);
    put(lake, 'a/w.parquet');
    full(await refresh(e, { changedPaths: ['a/w.parquet'] }), /warnings/);
    expect(strip(await e.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
  });

  it('for a table format, which reads its table metadata', async () => {
    const source = tempDir();
    writeFixtureTable(source, historyTable());
    const e = new RefreshEngine({ root: tempDir(), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'iceberg-table' } });
    await refresh(e);
    full(await refresh(e, { changedPaths: ['metadata'] }), /table format/);
  });
});

describe('two engines on one root', () => {
  it('racing a hinted and a full refresh stay consistent: one at a time, each from the version before', async () => {
    const { lake, e: a, root } = await setup();
    const b = new RefreshEngine({ root, workers: 0 });
    /** Starts a refresh, retrying while the other engine holds the collection. */
    const until = async (e: RefreshEngine, req: Partial<RefreshRequest>): Promise<RefreshJobInfo> => {
      for (;;) {
        try {
          const info = await refresh(e, req);
          if (info.errorCode !== 'REFRESH_IN_PROGRESS') return info;
        } catch (err) {
          if (!LakemapError.is(err, 'REFRESH_IN_PROGRESS')) throw err;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    for (let round = 0; round < 6; round++) {
      const changed = [`a/r${round}.parquet`, `b/f${4 + (round % 4)}.parquet`];
      put(lake, changed[0]!, round % 3);
      put(lake, changed[1]!, (round + 1) % 3);
      const [ha, fb] = await Promise.all([until(a, { changedPaths: changed }), until(b, {})]);
      expect(ha.state, ha.reason).toBe('RefreshCompleted');
      expect(fb.state, fb.reason).toBe('RefreshCompleted');
      expect(strip(await a.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
      expect(strip(await b.getManifest({ collectionName: 'c' }))).toEqual(strip(await reference(lake)));
    }
    const versions = await a.listManifestVersions({ collectionName: 'c' });
    expect(versions.length).toBeGreaterThan(1);
  });
});

describe('a hint that lags the source', () => {
  it('a hinted listing that finds no files lists the whole source before failing with NO_FILES', async () => {
    // A watch may hand over the removal of the only file before the event of its replacement.
    const lake = tempDir();
    put(lake, 'a.parquet', 0);
    const e = new RefreshEngine({ root: tempDir(), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    expect((await refresh(e)).state).toBe('RefreshCompleted');
    fs.rmSync(path.join(lake, 'a.parquet'));
    put(lake, 'b.parquet', 1);
    const info = await refresh(e, { changedPaths: ['a.parquet'] });
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.hint).toEqual({ listing: 'full', paths: 1, reason: 'the hinted listing found no files: the whole source is listed before calling it empty' });
    expect(info.changes?.addedPaths).toEqual(['b.parquet']);
    expect(info.changes?.removedPaths).toEqual(['a.parquet']);
    // and a source that is really empty still fails, from the full listing
    fs.rmSync(path.join(lake, 'b.parquet'));
    const empty = await refresh(e, { changedPaths: ['b.parquet'] });
    expect(empty.state).toBe('RefreshFailed');
    expect(empty.errorCode).toBe('NO_FILES');
    expect(empty.hint?.listing).toBe('full');
  });
});
