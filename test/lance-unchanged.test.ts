// A lance refresh that finds the dataset at the version it mapped skips the snapshot (lanceScanner.unchanged),
// and only then: a new version, a manifest written again under the same name, a pinned other version,
// a changed spec all take a snapshot and commit what it finds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import type { TableScanner } from '../src/scanner.js';
import type { RefreshJobInfo } from '../src/types.js';
import { lanceScanner } from '../scanners/lance/index.js';
import { EVENTS_SCHEMA, connectFresh, eventRows } from '../fixtures/lance/lancedb-tables.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-unchanged-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The lance scanner, counting its snapshots and what `unchanged` answered. */
function counting(): { scanner: TableScanner; snapshots: () => number; answers: boolean[] } {
  let snapshots = 0;
  const answers: boolean[] = [];
  const scanner: TableScanner = {
    ...lanceScanner,
    snapshot: async (s, ctx) => {
      snapshots++;
      return lanceScanner.snapshot(s, ctx);
    },
    unchanged: async (s, ctx) => {
      const a = await lanceScanner.unchanged!(s, ctx);
      answers.push(a);
      return a;
    },
  };
  return { scanner, snapshots: () => snapshots, answers };
}

async function refresh(engine: RefreshEngine, spec?: Record<string, unknown>): Promise<RefreshJobInfo> {
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'events', ...(spec ? { externalSpec: spec } : {}) })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return info;
}

async function writeVersions(lake: string, versions: number, start = 0): Promise<string> {
  const db = await connectFresh(lake);
  const table = await db.createTable('events', eventRows(start, 10), { schema: EVENTS_SCHEMA });
  for (let v = 1; v < versions; v++) await table.add(eventRows(start + v * 10, 10));
  table.close();
  db.close();
  return path.join(lake, 'events.lance');
}

describe('lance no-change refresh', () => {
  it('skips the snapshot in a new engine when the dataset is at the mapped version, and reports every file kept', async () => {
    const dataset = await writeVersions(tempDir(), 3);
    const root = tempDir();
    const first = counting();
    const engine = new RefreshEngine({ root, scanners: [first.scanner] });
    await engine.createCollection({ collectionName: 'events', externalSource: dataset, externalSpec: { format: 'lance-table' } });
    await refresh(engine);
    const m1 = await engine.getManifest({ collectionName: 'events' });
    expect(m1.details?.['manifestSha256']).toMatch(/^[0-9a-f]{64}$/);

    // A fresh engine (as the CLI): it holds no manifest, reads the root alone.
    for (const e of [new RefreshEngine({ root, scanners: [first.scanner] }), engine]) {
      const before = first.snapshots();
      const same = await refresh(e);
      expect(same.committed).toBe(false);
      expect(same.version).toBe(1);
      expect(same.changes?.files).toEqual({ added: 0, removed: 0, modified: 0, unchanged: m1.files.length });
      expect(same.changes?.segments).toEqual({ added: 0, removed: 0, kept: m1.segments.length });
      expect(first.snapshots()).toBe(before);
      expect(first.answers.at(-1)).toBe(true);
    }

    // A new version is taken.
    const db = await (await import('@lancedb/lancedb')).connect(path.dirname(dataset));
    const table = await db.openTable('events');
    await table.add(eventRows(1000, 5));
    table.close();
    db.close();
    const before = first.snapshots();
    const next = await refresh(new RefreshEngine({ root, scanners: [first.scanner] }));
    expect(next.committed).toBe(true);
    expect(first.answers.at(-1)).toBe(false);
    expect(first.snapshots()).toBe(before + 1);
    expect((await engine.getManifest({ collectionName: 'events' })).totalRows).toBe(m1.totalRows + 5);
  });

  it('sees a next version under either naming without listing _versions/', async () => {
    const dataset = await writeVersions(tempDir(), 3);
    const c = counting();
    const root = tempDir();
    const engine = new RefreshEngine({ root, scanners: [c.scanner] });
    await engine.createCollection({ collectionName: 'events', externalSource: dataset, externalSpec: { format: 'lance-table' } });
    await refresh(engine);
    const { manifestNames } = await import('../scanners/lance/versions.js');
    const v3 = path.join(dataset, manifestNames(3).v2);
    for (const name of [manifestNames(4).v1, manifestNames(4).v2]) {
      const extra = path.join(dataset, name);
      fs.copyFileSync(v3, extra); // a manifest named for version 4 (holding 3: the snapshot warns)
      expect(await lanceScanner.unchanged!(new (await import('../src/storage/local.js')).LocalStorage(dataset), {
        spec: { format: 'lance-table' },
        signal: new AbortController().signal,
        previous: { tableVersion: '3', details: (await engine.getManifest({ collectionName: 'events' })).details },
      })).toBe(false);
      fs.rmSync(extra);
    }
    expect((await refresh(new RefreshEngine({ root, scanners: [c.scanner] }))).committed).toBe(false);
    expect(c.answers.at(-1)).toBe(true);
  });

  it('takes a snapshot when the dataset was written again with the same version number', async () => {
    const lake = tempDir();
    const dataset = await writeVersions(lake, 2);
    const c = counting();
    const root = tempDir();
    const engine = new RefreshEngine({ root, scanners: [c.scanner] });
    await engine.createCollection({ collectionName: 'events', externalSource: dataset, externalSpec: { format: 'lance-table' } });
    await refresh(engine);
    const m1 = await engine.getManifest({ collectionName: 'events' });

    fs.rmSync(dataset, { recursive: true });
    await writeVersions(lake, 2, 500); // same version numbers and names, other rows and files
    const again = await refresh(new RefreshEngine({ root, scanners: [c.scanner] }));
    expect(c.answers.at(-1)).toBe(false);
    expect(again.committed).toBe(true);
    const m2 = await engine.getManifest({ collectionName: 'events' });
    expect(m2.tableVersion).toBe(m1.tableVersion);
    expect(m2.files.map((f) => f.path)).not.toEqual(m1.files.map((f) => f.path));
  });

  it('takes a snapshot for a pinned other version or a changed spec', async () => {
    const dataset = await writeVersions(tempDir(), 3);
    const c = counting();
    const engine = new RefreshEngine({ root: tempDir(), scanners: [c.scanner] });
    await engine.createCollection({ collectionName: 'events', externalSource: dataset, externalSpec: { format: 'lance-table' } });
    await refresh(engine);
    const pinned = await refresh(engine, { format: 'lance-table', version: 2 });
    expect(pinned.committed).toBe(true);
    expect((await engine.getManifest({ collectionName: 'events' })).tableVersion).toBe('2');
    // Pinned and unchanged: skipped.
    const before = c.snapshots();
    expect((await refresh(engine)).committed).toBe(false);
    expect(c.snapshots()).toBe(before);
    // Another segment size: the spec differs, so the refresh takes a snapshot and commits.
    expect((await refresh(engine, { format: 'lance-table', version: 2, segment_max_rows: 5 })).committed).toBe(true);
    expect(c.snapshots()).toBe(before + 1);
  });
});
