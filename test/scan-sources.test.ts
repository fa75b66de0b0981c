// What a refresh maps from a file source (issue 8 items 11, 12, 15, 16, 17): an emptied source or a
// glob matching nothing fails with NO_FILES; names that are not UTF-8 are skipped with a warning;
// two fields on one column are refused; globs follow picomatch; verify: "footer" finds rewritten files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine, LakemapError } from '../src/index.js';
import type { ExternalSpec, FieldMapping } from '../src/index.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir } from './helpers/tmp.js';

/** A small valid parquet file (synthetic footer) of `rows` rows with one required int64 column `id`. */
function pq(file: string, rows = 10): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const schema = [{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }];
  writeSyntheticParquet(file, encodeFooter(footerForSchema(schema, rows)));
}

async function setup(lake: string, spec: Omit<ExternalSpec, 'format'> = {}, fields?: FieldMapping[]) {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', ...spec }, ...(fields ? { fields } : {}) });
  const refresh = async () => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  return { engine, refresh };
}

describe('an empty source fails with NO_FILES (item 11)', () => {
  it('on the first refresh of an empty folder, naming the source', async () => {
    const lake = tempDir();
    const { refresh } = await setup(lake);
    const info = await refresh();
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'NO_FILES' });
    expect(info.reason).toContain(fs.realpathSync(lake));
  });

  it('with declared fields it is still NO_FILES, not FIELD_NOT_FOUND', async () => {
    const { refresh } = await setup(tempDir(), {}, [{ name: 'pk', externalField: 'id' }]);
    expect(await refresh()).toMatchObject({ state: 'RefreshFailed', errorCode: 'NO_FILES' });
  });

  it('when every file disappears, the previous version stays current', async () => {
    const lake = tempDir();
    pq(path.join(lake, 'a.parquet'));
    const { engine, refresh } = await setup(lake);
    expect(await refresh()).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    fs.rmSync(path.join(lake, 'a.parquet'));
    expect(await refresh()).toMatchObject({ state: 'RefreshFailed', errorCode: 'NO_FILES' });
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.version).toBe(1);
    expect(m.totalRows).toBe(10);
  });

  it('when a files glob matches nothing, naming the glob', async () => {
    const lake = tempDir();
    pq(path.join(lake, 'a.parquet'));
    const { refresh } = await setup(lake, { files: 'data/*.parquet' });
    const info = await refresh();
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'NO_FILES' });
    expect(info.reason).toContain('"data/*.parquet"');
  });

  it('allow_empty: true commits an empty version', async () => {
    const { engine, refresh } = await setup(tempDir(), { allow_empty: true });
    expect(await refresh()).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    expect((await engine.getManifest({ collectionName: 'c' })).totalRows).toBe(0);
  });
});

describe('file names that are not valid UTF-8 (item 12)', () => {
  it('are skipped with a warning that shows their bytes; the other files are mapped', async () => {
    const lake = tempDir();
    pq(path.join(lake, 'good.parquet'));
    const bad = Buffer.concat([Buffer.from(lake + '/bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('.parquet')]);
    fs.copyFileSync(path.join(lake, 'good.parquet'), bad);
    const { engine, refresh } = await setup(lake);
    const info = await refresh();
    expect(info.state).toBe('RefreshCompleted');
    expect(info.warnings.join('\n')).toContain('bad-\\xff\\xfe.parquet');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => f.path)).toEqual(['good.parquet']);
  });

  // Folders are read with names as text, and again as bytes only when a name shows U+FFFD (issue 10):
  // a real U+FFFD in a valid name must survive that second reading, in files and in folders.
  it('a valid name holding U+FFFD is mapped, beside an invalid one in the same folder', async () => {
    const lake = tempDir();
    pq(path.join(lake, 'sub\uFFFD', 'good.parquet'));
    const dir = path.join(lake, 'sub\uFFFD');
    fs.copyFileSync(path.join(dir, 'good.parquet'), path.join(dir, 'odd-\uFFFD.parquet'));
    fs.copyFileSync(path.join(dir, 'good.parquet'), Buffer.concat([Buffer.from(dir + '/bad-'), Buffer.from([0xc3]), Buffer.from('.parquet')]));
    const { engine, refresh } = await setup(lake);
    const info = await refresh();
    expect(info.state).toBe('RefreshCompleted');
    expect(info.warnings.join('\n')).toContain('sub\uFFFD/bad-\\xc3.parquet: its name is not valid UTF-8');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => f.path)).toEqual(['sub\uFFFD/good.parquet', 'sub\uFFFD/odd-\uFFFD.parquet']);
  });
});

describe('field mappings (item 15)', () => {
  it('two fields mapped to the same external column are refused at create with INVALID_FIELDS', async () => {
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    const create = engine.createCollection({
      collectionName: 'c',
      externalSource: tempDir(),
      externalSpec: { format: 'parquet' },
      fields: [{ name: 'a', externalField: 'id' }, { name: 'b', externalField: 'id' }],
    });
    await expect(create).rejects.toMatchObject({ code: 'INVALID_FIELDS', message: expect.stringContaining('"a" and "b"') });
    expect(await engine.listCollections()).toEqual([]);
  });
});

describe('files globs follow picomatch (item 16)', () => {
  const lake = tempDir();
  pq(path.join(lake, 'top.parquet'));
  pq(path.join(lake, 'd1', 'one.parquet'));
  pq(path.join(lake, 'd2', 'deep', 'two.parquet'));
  pq(path.join(lake, 'dx', 'three.parquet'));
  const paths = async (files: string | string[]) => {
    const { engine, refresh } = await setup(lake, { files });
    expect((await refresh()).state).toBe('RefreshCompleted');
    return (await engine.getManifest({ collectionName: 'c' })).files.map((f) => f.path);
  };

  it('*.parquet is the top level only; ./ is ignored', async () => {
    expect(await paths('*.parquet')).toEqual(['top.parquet']);
    expect(await paths('./*.parquet')).toEqual(['top.parquet']);
  });

  it('**/*.parquet is any depth, top level included', async () => {
    expect(await paths('**/*.parquet')).toEqual(['d1/one.parquet', 'd2/deep/two.parquet', 'dx/three.parquet', 'top.parquet']);
  });

  it('character classes and braces work', async () => {
    expect(await paths('d[0-9]/**/*.parquet')).toEqual(['d1/one.parquet', 'd2/deep/two.parquet']);
    expect(await paths('{top,dx/three}.parquet')).toEqual(['dx/three.parquet', 'top.parquet']);
  });

  it('without files, every .parquet at any depth (the default is unchanged)', async () => {
    const { engine, refresh } = await setup(lake);
    await refresh();
    expect((await engine.getManifest({ collectionName: 'c' })).files).toHaveLength(4);
  });

  for (const glob of ['../*.parquet', '/data/*.parquet', '!*.parquet', 'd[0-9/*.parquet', '{a,b.parquet', 'd1\\one.parquet']) {
    it(`unsupported glob ${JSON.stringify(glob)} is refused at create`, async () => {
      const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
      const err = await engine
        .createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', files: glob } })
        .catch((e: unknown) => e);
      expect(LakemapError.is(err, 'INVALID_SPEC')).toBe(true);
      expect((err as Error).message).toContain(JSON.stringify(glob));
    });
  }
});

describe('verify: "footer" (item 17)', () => {
  // Same size, restored mtime, different rows: what `cp -p` or `rsync -t` of a rewritten file leaves.
  const rewrite = (file: string, rows: number, mtime: Date): void => {
    pq(file, rows);
    fs.utimesSync(file, mtime, mtime);
  };

  it('by default a rewritten file with the same size and mtime is carried over (the fast check)', async () => {
    const lake = tempDir();
    const file = path.join(lake, 'a.parquet');
    const mtime = new Date('2024-01-02T03:04:05Z');
    rewrite(file, 10, mtime);
    const { engine, refresh } = await setup(lake);
    await refresh();
    const size = fs.statSync(file).size;
    rewrite(file, 20, mtime);
    expect(fs.statSync(file).size).toBe(size);
    await refresh();
    expect((await engine.getManifest({ collectionName: 'c' })).totalRows).toBe(10);
  });

  it('with verify: "footer" the footer is re-read and the change found', async () => {
    const lake = tempDir();
    const file = path.join(lake, 'a.parquet');
    const mtime = new Date('2024-01-02T03:04:05Z');
    rewrite(file, 10, mtime);
    const { engine, refresh } = await setup(lake, { verify: 'footer' });
    expect(await refresh()).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    const before = await engine.getManifest({ collectionName: 'c' });
    rewrite(file, 20, mtime);
    const info = await refresh();
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 2, committed: true });
    expect(info.warnings.join('\n')).toContain('a.parquet: content changed although its size and mtime did not');
    const after = await engine.getManifest({ collectionName: 'c' });
    expect(after.totalRows).toBe(20);
    expect(after.files[0]!.fingerprint).not.toBe(before.files[0]!.fingerprint);
    // unchanged: re-read, same fingerprint, nothing committed
    expect(await refresh()).toMatchObject({ state: 'RefreshCompleted', version: 2, committed: false });
  });

  it('an unknown verify value is refused at create', async () => {
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await expect(
      engine.createCollection({ collectionName: 'c', externalSource: tempDir(), externalSpec: { format: 'parquet', verify: 'hash' } }),
    ).rejects.toMatchObject({ code: 'INVALID_SPEC' });
  });
});
