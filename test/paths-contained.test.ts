// Nothing leads outside the source (issue 8 items 13, 14): every path a table scanner returns is
// resolved and checked like a listed file, symlinks included; a file swapped for a link to outside
// between listing and probing is not read through the link.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Field, Int64, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import type { ExternalSpec, RefreshJobEvent, TableEntry, TableScanner } from '../src/index.js';
import { writeManifest } from '../fixtures/lance/manifest-writer.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const schema = new Schema([new Field('id', new Int64(), false)]);

/** A table scanner that returns one entry per path given, 1 row each, without any check of its own. */
function pathsScanner(paths: string[]): TableScanner {
  return {
    kind: 'table',
    format: 'paths',
    snapshot: async () => ({
      tableVersion: '1',
      schema,
      entries: paths.map((p, i): TableEntry => ({ path: p, sizeBytes: 1, fingerprint: `f${i}`, rows: 1, units: [{ rows: 1, byteSize: 1 }] })),
    }),
  };
}

async function refreshTable(dir: string, scanner: TableScanner, spec: Omit<ExternalSpec, 'format'> = {}) {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [scanner] });
  await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: scanner.format, ...spec } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
  return { engine, info };
}

/** A table folder with data/ok.bin, data/out.bin -> outside file, linked/ -> outside folder. */
function table(): string {
  const outside = tempDir();
  writeFile(path.join(outside, 'secret.bin'), 'outside');
  const dir = tempDir();
  writeFile(path.join(dir, 'data', 'ok.bin'), 'inside');
  fs.symlinkSync(path.join(outside, 'secret.bin'), path.join(dir, 'data', 'out.bin'));
  fs.symlinkSync(outside, path.join(dir, 'linked'));
  fs.symlinkSync(path.join(dir, 'data', 'ok.bin'), path.join(dir, 'data', 'in-link.bin'));
  return dir;
}

describe('table entry paths (item 13)', () => {
  it('a lance data file named ../../etc/passwd is refused with PATH_ESCAPE', async () => {
    const dir = tempDir();
    writeManifest(dir, {
      version: 1,
      fields: [{ name: 'id', id: 0, logicalType: 'int64' }],
      fragments: [{ id: 0, files: [{ path: '../../etc/passwd', sizeBytes: 10 }], physicalRows: 5 }],
      writerVersion: { library: 'lance', version: '8.0.0' },
    });
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'lance-table' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'PATH_ESCAPE' });
    expect(info.reason).toContain('etc/passwd');
  });

  for (const [what, p, code] of [
    ['a data file that is a symlink to outside', 'data/out.bin', 'PATH_ESCAPE'],
    ['a data file in a folder that is a symlink to outside', 'linked/secret.bin', 'PATH_ESCAPE'],
    ['a path with %2e%2e segments', 'data/%2e%2e/%2E%2e/etc/passwd', 'PATH_ESCAPE'],
    ['a path climbing out with ..', 'data/../../x.bin', 'PATH_ESCAPE'],
    ['an absolute path', '/etc/passwd', 'PATH_ESCAPE'],
    ['a data file that does not exist', 'data/missing.bin', 'NOT_FOUND'],
  ] as const) {
    it(`${what} is refused with ${code}`, async () => {
      const { engine, info } = await refreshTable(table(), pathsScanner(['data/ok.bin', p]));
      expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: code });
      await expect(engine.getManifest({ collectionName: 't' })).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    });
  }

  it('with skip_invalid such entries are skipped and named; links inside the table are kept', async () => {
    const bad = ['data/out.bin', 'linked/secret.bin', 'data/%2e%2e/x', 'data/missing.bin'];
    const { engine, info } = await refreshTable(table(), pathsScanner(['data/ok.bin', 'data/in-link.bin', ...bad]), { skip_invalid: true });
    expect(info.state).toBe('RefreshCompleted');
    expect(info.skipped.map((s) => s.path)).toEqual(bad);
    expect((await engine.getManifest({ collectionName: 't' })).files.map((f) => f.path)).toEqual(['data/ok.bin', 'data/in-link.bin']);
  });
});

describe('a file swapped for a link between listing and probing (item 14)', () => {
  const pq = (file: string, rows: number): void => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeSyntheticParquet(file, encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], rows)));
  };

  for (const skipInvalid of [false, true]) {
    it(`is not read through the link (skip_invalid: ${skipInvalid})`, async () => {
      const outside = tempDir();
      pq(path.join(outside, 'secret.parquet'), 99);
      const lake = tempDir();
      pq(path.join(lake, 'a.parquet'), 10);
      const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
      await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', skip_invalid: skipInvalid } });
      let swapped = false;
      // The first progress event comes right after listing, before any file is opened.
      engine.on('progress', (e: RefreshJobEvent) => {
        if (swapped || e.job.filesTotal !== 1) return;
        swapped = true;
        fs.rmSync(path.join(lake, 'a.parquet'));
        fs.symlinkSync(path.join(outside, 'secret.parquet'), path.join(lake, 'a.parquet'));
      });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(swapped).toBe(true);
      expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'PATH_ESCAPE' });
    });
  }
});
