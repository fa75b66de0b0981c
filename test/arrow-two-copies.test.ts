// A user's scanner that imports its own apache-arrow (here 21.x, installed as `apache-arrow-21`) while
// lakemap loads another copy (the lowest supported, 18.1): the schema must be taken as it is, not
// blamed on the scanner ("Vector constructor expects an Array of Data instances").
import * as path from 'node:path';
import * as A21 from 'apache-arrow-21';
import * as A18 from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, manifestArrowSchema, type FileScanner, type TableScanner } from 'lakemap';
import { tempDir, writeFile } from './helpers/tmp.js';

function wideSchema21(): A21.Schema {
  const entries = new A21.Field('entries', new A21.Struct([new A21.Field('key', new A21.Utf8(), false), new A21.Field('value', new A21.Int32(), true)]), false);
  return new A21.Schema(
    [
      new A21.Field('id', new A21.Int64(), false),
      new A21.Field('u8', new A21.Uint8(), true),
      new A21.Field('score', new A21.Float32(), true),
      new A21.Field('name', new A21.Utf8(), true, new Map([['comment', 'kept']])),
      new A21.Field('big', new A21.LargeUtf8(), true),
      new A21.Field('ok', new A21.Bool(), true),
      new A21.Field('price', new A21.Decimal(2, 12, 128), true),
      new A21.Field('day', new A21.DateDay(), true),
      new A21.Field('at', new A21.TimestampMicrosecond('UTC'), true),
      new A21.Field('tod', new A21.TimeMillisecond(), true),
      new A21.Field('took', new A21.DurationNanosecond(), true),
      new A21.Field('tags', new A21.List(new A21.Field('item', new A21.Utf8(), true)), true),
      new A21.Field('vec', new A21.FixedSizeList(4, new A21.Field('item', new A21.Float32(), false)), false),
      new A21.Field('pt', new A21.Struct([new A21.Field('x', new A21.Float64(), false), new A21.Field('y', new A21.Float64(), false)]), true),
      new A21.Field('attrs', new A21.Map_(entries, false), true),
      new A21.Field('cat', new A21.Dictionary(new A21.Utf8(), new A21.Int32(), 0, false), true),
      new A21.Field('raw', new A21.FixedSizeBinary(16), true),
    ],
    new Map([['origin', 'arrow21']]),
  );
}

/** The same schema built with the copy lakemap loads: what the manifest must hold. */
function wideSchema18(): A18.Schema {
  const entries = new A18.Field('entries', new A18.Struct([new A18.Field('key', new A18.Utf8(), false), new A18.Field('value', new A18.Int32(), true)]), false);
  return new A18.Schema(
    [
      new A18.Field('id', new A18.Int64(), false),
      new A18.Field('u8', new A18.Uint8(), true),
      new A18.Field('score', new A18.Float32(), true),
      new A18.Field('name', new A18.Utf8(), true, new Map([['comment', 'kept']])),
      new A18.Field('big', new A18.LargeUtf8(), true),
      new A18.Field('ok', new A18.Bool(), true),
      new A18.Field('price', new A18.Decimal(2, 12, 128), true),
      new A18.Field('day', new A18.DateDay(), true),
      new A18.Field('at', new A18.TimestampMicrosecond('UTC'), true),
      new A18.Field('tod', new A18.TimeMillisecond(), true),
      new A18.Field('took', new A18.DurationNanosecond(), true),
      new A18.Field('tags', new A18.List(new A18.Field('item', new A18.Utf8(), true)), true),
      new A18.Field('vec', new A18.FixedSizeList(4, new A18.Field('item', new A18.Float32(), false)), false),
      new A18.Field('pt', new A18.Struct([new A18.Field('x', new A18.Float64(), false), new A18.Field('y', new A18.Float64(), false)]), true),
      new A18.Field('attrs', new A18.Map_(entries, false), true),
      new A18.Field('cat', new A18.Dictionary(new A18.Utf8(), new A18.Int32(), 0, false), true),
      new A18.Field('raw', new A18.FixedSizeBinary(16), true),
    ],
    new Map([['origin', 'arrow21']]),
  );
}

const rowsScanner = (schema: () => unknown): FileScanner => ({
  kind: 'file',
  format: 'rows21',
  extensions: ['.rows'],
  tailBytes: 16,
  probe(file) {
    const rows = Number(new TextDecoder().decode(file.tail).trim());
    return { rows, units: [{ rows, byteSize: file.size }], schema: schema() as never };
  },
});

function lake(files: Record<string, number>): string {
  const dir = tempDir();
  for (const [name, rows] of Object.entries(files)) writeFile(path.join(dir, name), String(rows));
  return dir;
}

describe('a scanner built on another copy of apache-arrow', () => {
  it('the two copies really differ (else this suite proves nothing)', () => {
    expect(new A21.Schema([]) instanceof A18.Schema).toBe(false);
    expect(Object.keys(A21.Type)).toContain('LargeList');
    expect(Object.keys(A18.Type)).not.toContain('LargeList');
  });

  it('file scanner: every common type is mapped exactly, fields mapped by name work', async () => {
    const s21 = wideSchema21();
    const src = lake({ 'a.rows': 5, 'b.rows': 7 });
    const engine = new RefreshEngine({ root: tempDir(), scanners: [rowsScanner(() => s21)], workers: 0 });
    await engine.createCollection({ collectionName: 'all', externalSource: src, externalSpec: { format: 'rows21' } });
    await engine.createCollection({
      collectionName: 'some',
      externalSource: src,
      externalSpec: { format: 'rows21', skip_invalid: true },
      fields: [{ name: 'pk', externalField: 'id' }, { name: 'embedding', externalField: 'vec' }],
    });
    for (const collectionName of ['all', 'some']) {
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
      expect(info.reason).toBe('');
      expect(info.state).toBe('RefreshCompleted');
    }
    const all = await engine.getManifest({ collectionName: 'all' });
    expect(all.totalRows).toBe(12);
    const back = manifestArrowSchema(all);
    const want = wideSchema18();
    expect(back.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(want.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`));
    expect(back.fields.find((f) => f.name === 'name')!.metadata.get('comment')).toBe('kept');
    expect(back.metadata.get('origin')).toBe('arrow21');
    const some = await engine.getManifest({ collectionName: 'some' });
    expect(some.schema.fields.map((f) => `${f.name} ${f.type}`)).toEqual(['pk Int64', 'embedding FixedSizeList[4]<Float32>']);
    expect(some.skipped).toEqual([]);
  });

  it('table scanner: its snapshot schema is adopted too', async () => {
    const table: TableScanner = {
      kind: 'table',
      format: 'tab21',
      async snapshot() {
        return {
          tableVersion: '1',
          schema: new A21.Schema([new A21.Field('id', new A21.Int64(), false)]) as never,
          entries: [{ path: 'x', sizeBytes: 1, fingerprint: 'x@1', rows: 3, units: [{ rows: 3, byteSize: 1 }] }],
        };
      },
    };
    const engine = new RefreshEngine({ root: tempDir(), scanners: [table], workers: 0 });
    const source = tempDir();
    writeFile(path.join(source, 'x'), 'x'); // entries must name files inside the source
    await engine.createCollection({ collectionName: 't', externalSource: source, externalSpec: { format: 'tab21' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
    expect(info.reason).toBe('');
    expect((await engine.getManifest({ collectionName: 't' })).schema.fields).toEqual([{ name: 'id', type: 'Int64', nullable: false }]);
  });

  it('a type the loaded copy does not know fails UNSUPPORTED naming file and column, not SCANNER_ERROR', async () => {
    const s = new A21.Schema([new A21.Field('id', new A21.Int64(), false), new A21.Field('v', new A21.Utf8View(), true)]);
    const src = lake({ 'a.rows': 5 });
    const engine = new RefreshEngine({ root: tempDir(), scanners: [rowsScanner(() => s)], workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'rows21' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('UNSUPPORTED');
    expect(info.reason).toContain('a.rows');
    expect(info.reason).toContain('column "v"');
  });

  it('something that is not a schema is a SCANNER_ERROR naming the file', async () => {
    const src = lake({ 'a.rows': 5 });
    const engine = new RefreshEngine({ root: tempDir(), scanners: [rowsScanner(() => ({ columns: [] }))], workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'rows21' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.errorCode).toBe('SCANNER_ERROR');
    expect(info.reason).toContain('a.rows');
    expect(LakemapError).toBeDefined();
  });
});
