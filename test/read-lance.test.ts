// Reading lance-table segments through lancedb: exactly the live rows, in order, at the pinned version,
// checked against lancedb's own full scan of datasets with deletions; nothing written into the dataset.
import * as fs from 'node:fs';

import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int64, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { manifestArrowSchema } from '../src/manifest/schema.js';
import { loadLanceDb } from '../src/read/lance-dataset.js';
import { readLanceSegments } from '../src/read/lance.js';
import { readSegmentRows } from '../src/read/read.js';
import type { Manifest } from '../src/types.js';
import { tempDir } from './helpers/tmp.js';

const DIM = 8;
const SCHEMA = new Schema([
  new Field('id', new Int64(), false),
  new Field('Name', new Utf8(), true),
  new Field('vec', new FixedSizeList(DIM, new Field('item', new Float32(), true)), true),
]);
const rows = (start: number, n: number): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return { id: i, Name: i % 11 === 0 ? null : `n${i}`, vec: Array.from({ length: DIM }, (_, j) => i + j / 8) };
  });

interface Row {
  id: number;
  name: string | null;
  vec: number[];
  addr: bigint;
}

/** Every tree entry's type, size, inode and mtime: reading must change none of them. */
function treeState(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${e.isDirectory() ? 'd' : 'f'} ${st.size} ${st.ino} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.join('\n');
}

function batchRows(batches: RecordBatch[], names: { id: string; name: string; vec: string }): Omit<Row, 'addr'>[] {
  const out: Omit<Row, 'addr'>[] = [];
  for (const b of batches) {
    const id = b.getChild(names.id)!;
    const name = b.getChild(names.name)!;
    const vec = b.getChild(names.vec)!;
    for (let i = 0; i < b.numRows; i++) out.push({ id: Number(id.get(i)), name: name.get(i) as string | null, vec: Array.from(vec.get(i)!.toArray() as Float32Array) });
  }
  return out;
}

async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const strip = (r: Row): Omit<Row, 'addr'> => ({ id: r.id, name: r.name, vec: r.vec });

describe('reading lance-table segments', () => {
  let lake: string;
  let dataset: string;
  let table: lancedb.Table;
  let engine: RefreshEngine;
  let manifest: Manifest;
  let oracle: Row[]; // lancedb's full scan at the mapped version, with row addresses
  let readTmp: string;
  const savedTmp = process.env.TMPDIR;

  beforeAll(async () => {
    // lakemap's private connect dirs are made under os.tmpdir(): point it at a dir this file owns and checks.
    readTmp = tempDir('lakemap-lance-tmp-');
    process.env.TMPDIR = readTmp;
    lake = tempDir();
    const db = await lancedb.connect(lake);
    table = await db.createTable('ds', rows(0, 1000), { schema: SCHEMA }); // fragment 0: untouched
    await table.add(rows(1000, 1000)); // fragment 1: scattered deletes (an arrow deletion file)
    await table.add(rows(2000, 500)); // fragment 2: untouched
    await table.add(rows(2500, 40_000)); // fragment 3: dense deletes (a bitmap deletion file), several batches
    await table.add(rows(42_500, 300)); // fragment 4: every row deleted but one
    await table.delete('(id >= 1000 AND id < 2000 AND id % 7 = 0) OR id = 1999 OR id = 1000');
    await table.delete('(id >= 2600 AND id < 30000) OR id = 42499');
    await table.delete('id >= 42500 AND id <> 42650');
    dataset = path.join(lake, 'ds.lance');
    const full = await table.query().select(['id', 'Name', 'vec', '_rowaddr']).toArrow();
    oracle = [];
    for (let i = 0; i < full.numRows; i++) {
      oracle.push({
        id: Number(full.getChild('id')!.get(i)),
        name: full.getChild('Name')!.get(i) as string | null,
        vec: Array.from(full.getChild('vec')!.get(i)!.toArray() as Float32Array),
        addr: full.getChild('_rowaddr')!.get(i) as bigint,
      });
    }
  }, 120_000);

  // The engine maps the dataset in the tests' context (a beforeEach), not in beforeAll: lakemap code run
  // from beforeAll makes Stryker mutants static (docs/testing.md). Memoised: one refresh per run.
  let mapped: Promise<{ engine: RefreshEngine; manifest: Manifest }> | undefined;
  beforeEach(async () => {
    mapped ??= (async () => {
      const e = new RefreshEngine({ root: tempDir(), workers: 0 });
      await e.createCollection({
        collectionName: 'ds',
        externalSource: dataset,
        externalSpec: { format: 'lance-table', segment_max_rows: 300 },
        fields: [{ name: 'pk', externalField: 'id' }, { name: 'title', externalField: 'Name' }, { name: 'emb', externalField: 'vec' }],
      });
      const info = await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'ds' })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
      return { engine: e, manifest: await e.getManifest({ collectionName: 'ds' }) };
    })();
    ({ engine, manifest } = await mapped);
  }, 120_000);

  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  const fragmentOf = (m: Manifest, segmentId: string): number => {
    const seg = m.segments.find((s) => s.id === segmentId)!;
    return Number(m.files.find((f) => f.path === seg.ranges[0]!.path)!.details!['fragmentId']);
  };

  it('reads each segment as exactly its fragment\'s live rows, in order, renamed, and leaves the dataset untouched', async () => {
    expect(manifest.totalRows).toBe(oracle.length);
    expect(manifest.segments).toHaveLength(5); // a fragment is one segment even above segment_max_rows
    const before = treeState(lake);
    const expectedSchema = manifestArrowSchema(manifest);
    for (const seg of manifest.segments) {
      const batches = await collect(engine.readSegment({ collectionName: 'ds', segmentId: seg.id }));
      for (const b of batches) {
        expect(b.schema.fields.map((f) => f.name)).toEqual(['pk', 'title', 'emb']);
        expect(b.schema.fields.map((f) => String(f.type))).toEqual(expectedSchema.fields.map((f) => String(f.type)));
      }
      const frag = BigInt(fragmentOf(manifest, seg.id));
      const want = oracle.filter((r) => r.addr >> 32n === frag).map(strip);
      expect(want.length).toBeGreaterThan(0);
      expect(batchRows(batches, { id: 'pk', name: 'title', vec: 'emb' })).toEqual(want);
    }
    // both ways of reading a whole fragment, forced for every fragment
    for (const how of ['offset', 'address'] as const) {
      for (const seg of manifest.segments) {
        const frag = BigInt(fragmentOf(manifest, seg.id));
        const got = batchRows(await collect(readLanceSegments(manifest, [seg.id], {}, how)), { id: 'pk', name: 'title', vec: 'emb' });
        expect(got, `${how}, fragment ${frag}`).toEqual(oracle.filter((r) => r.addr >> 32n === frag).map(strip));
      }
    }
    expect(treeState(lake)).toBe(before); // no byte, mtime, version or __manifest written
    expect(fs.existsSync(path.join(dataset, '__manifest'))).toBe(false);
    expect(fs.readdirSync(readTmp)).toEqual([]); // the private connect dir is gone
  }, 120_000);

  it('reads the whole collection in fragment order, and only the asked columns in the asked order', async () => {
    const all = await collect(engine.readCollection({ collectionName: 'ds' }));
    expect(batchRows(all, { id: 'pk', name: 'title', vec: 'emb' })).toEqual(oracle.map(strip));
    const some = await collect(engine.readCollection({ collectionName: 'ds', columns: ['emb', 'pk'] }));
    expect(some[0]!.schema.fields.map((f) => f.name)).toEqual(['emb', 'pk']);
    const ids = some.flatMap((b) => Array.from(b.getChild('pk')!.toArray() as BigInt64Array, Number));
    expect(ids).toEqual(oracle.map((r) => r.id));
    expect(Array.from(some[0]!.getChild('emb')!.get(1)!.toArray() as Float32Array)).toEqual(oracle[1]!.vec);
    await expect(collect(engine.readCollection({ collectionName: 'ds', columns: ['nope'] }))).rejects.toMatchObject({ code: 'FIELD_NOT_FOUND' });
    expect(fs.readdirSync(readTmp)).toEqual([]);
  }, 120_000);

  it('reads a partial range of a fragment (by _rowaddr bounds) as the live rows at those physical positions', async () => {
    // The engine makes one segment per fragment; a manifest cut finer must still read exactly.
    const cuts: Array<[number, number, number]> = [
      [1, 0, 300], [1, 300, 400], [1, 700, 300], // scattered deletes, incl. the fragment's first and last rows
      [3, 0, 100], [3, 90, 20], [3, 500, 1000], [3, 27_400, 12_600], // dense deletes, a range fully deleted, the tail
      [4, 100, 100], [4, 0, 100], // one live row; none
      [0, 999, 1],
    ];
    const files = new Map(manifest.files.map((f) => [Number(f.details!['fragmentId']), f]));
    const m: Manifest = {
      ...manifest,
      segments: cuts.map(([frag, rowOffset, n], i) => ({ id: `cut${i}`, rows: n, ranges: [{ path: files.get(frag)!.path, rowOffset, rows: n }] })),
    };
    for (const [i, [frag, rowOffset, n]] of cuts.entries()) {
      const lo = (BigInt(frag) << 32n) + BigInt(rowOffset);
      const want = oracle.filter((r) => r.addr >= lo && r.addr < lo + BigInt(n)).map(strip);
      const got = batchRows(await collect(readSegmentRows(m, `cut${i}`)), { id: 'pk', name: 'title', vec: 'emb' });
      expect(got, `fragment ${frag} rows [${rowOffset}, ${rowOffset + n})`).toEqual(want);
    }
    expect(oracle.some((r) => r.addr === (4n << 32n) + 150n)).toBe(true);
  }, 120_000);

  it('never hands out rows of another fragment: a misplaced offset falls back to address bounds, a wrong count fails', async () => {
    // a manifest claiming 5 more live rows in fragment 1 shifts fragment 2's offset back into fragment 1
    const tampered: Manifest = { ...manifest, files: manifest.files.map((f) => (f.details!['fragmentId'] === 1 ? { ...f, liveRows: f.liveRows + 5 } : f)) };
    const seg2 = manifest.segments.find((s) => fragmentOf(manifest, s.id) === 2)!;
    const got = batchRows(await collect(readLanceSegments(tampered, [seg2.id], {}, 'offset')), { id: 'pk', name: 'title', vec: 'emb' });
    expect(got).toEqual(oracle.filter((r) => r.addr >> 32n === 2n).map(strip));
    const seg1 = manifest.segments.find((s) => fragmentOf(manifest, s.id) === 1)!;
    for (const how of ['offset', 'address'] as const) {
      const err = await collect(readLanceSegments(tampered, [seg1.id], {}, how)).catch((e: unknown) => e);
      expect(err, how).toMatchObject({ code: 'SOURCE_CHANGED' });
      expect((err as Error).message).toMatch(/fragment 1 rows .*: lancedb returned .*refresh the collection/);
    }
  }, 60_000);

  it('cancels between batches and removes its temp dir', async () => {
    const ac = new AbortController();
    let seen = 0;
    const err = await (async () => {
      for await (const b of engine.readCollection({ collectionName: 'ds', signal: ac.signal })) {
        seen += b.numRows;
        ac.abort();
      }
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(manifest.totalRows);
    expect(fs.readdirSync(readTmp)).toEqual([]);
  }, 60_000);

  it('removes its temp dir when the consumer stops early', async () => {
    let batches = 0;
    for await (const b of engine.readCollection({ collectionName: 'ds' })) {
      expect(b.numRows).toBeGreaterThan(0);
      if (++batches === 2) break;
    }
    expect(batches).toBe(2);
    expect(fs.readdirSync(readTmp)).toEqual([]);
  }, 60_000);

  it('stays on the pinned version after the dataset moves on, and fails naming the path once the version is gone or the dataset moved', async () => {
    const firstSeg = manifest.segments[0]!.id;
    await table.add(rows(100_000, 10));
    await table.delete('id < 5');
    const pinned = batchRows(await collect(engine.readSegment({ collectionName: 'ds', segmentId: firstSeg })), { id: 'pk', name: 'title', vec: 'emb' });
    expect(pinned.map((r) => r.id).slice(0, 3)).toEqual([0, 1, 2]); // rows deleted after the mapped version still read
    expect(pinned).toHaveLength(1000);

    await table.optimize({ cleanupOlderThan: new Date(Date.now() + 60_000), deleteUnverified: true });
    const gone = await collect(engine.readSegment({ collectionName: 'ds', segmentId: firstSeg })).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'SOURCE_CHANGED' });
    expect((gone as Error).message).toContain(dataset);
    expect((gone as Error).message).toMatch(/no longer has version \d+/);

    fs.renameSync(dataset, `${dataset}.moved`);
    const moved = await collect(engine.readSegment({ collectionName: 'ds', segmentId: firstSeg })).catch((e: unknown) => e);
    expect(moved).toMatchObject({ code: 'NOT_FOUND' });
    expect((moved as Error).message).toContain(dataset);
    fs.renameSync(`${dataset}.moved`, dataset);
    expect(fs.readdirSync(readTmp)).toEqual([]);
  }, 120_000);
});

describe('declared vector dims on lance FixedSizeList columns', () => {
  it('reads a field declaring the column\'s own dim, and refuses another dim', async () => {
    const lake = tempDir();
    const t = await (await lancedb.connect(lake)).createTable('v', rows(0, 20), { schema: SCHEMA });
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    for (const [name, dim] of [['ok', DIM], ['bad', 4]] as const) {
      await engine.createCollection({ collectionName: name, externalSource: path.join(lake, 'v.lance'), externalSpec: { format: 'lance-table' }, fields: [{ name: 'emb', externalField: 'vec', dim }] });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: name })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
    }
    const ok = await collect(engine.readCollection({ collectionName: 'ok', columns: ['emb'] }));
    expect(ok.reduce((a, b) => a + b.numRows, 0)).toBe(await t.countRows());
    expect(String(ok[0]!.schema.fields[0]!.type)).toBe('FixedSizeList[8]<Float32>');
    await expect(collect(engine.readCollection({ collectionName: 'bad', columns: ['emb'] }))).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
  }, 60_000);
});

describe('lancedb is an optional peer', () => {
  it('names the package to install when it is missing', async () => {
    const missing = (pkg: string): Promise<unknown> => import(`${pkg}-not-installed`);
    const err = await loadLanceDb(missing).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MISSING_DEPENDENCY' });
    expect((err as Error).message).toContain('npm install @lancedb/lancedb@0.31.0');
  });

  it('loads the installed one', async () => {
    expect(typeof (await loadLanceDb()).connect).toBe('function');
  });
});


