// Watching table formats: a lance dataset appended with lancedb and an iceberg table committed by the
// fixture writer. Only commit files trigger, and the final manifest maps the new table version.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { EVENTS_SCHEMA, connectFresh, eventRows } from '../fixtures/lance/lancedb-tables.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable, SNAP1, SNAP3 } from '../fixtures/iceberg/sample-tables.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

describe.each(['parcel', 'poll'] as const)('watching tables (%s)', (mechanism) => {
  it('follows a lance dataset as lancedb appends and deletes', async () => {
    const lake = tempDir(); // lancedb writes __manifest/ into the directory it connects to: a temp dir of our own
    const db = await connectFresh(lake);
    const table = await db.createTable('events', eventRows(0, 100), { schema: EVENTS_SCHEMA });
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'events', externalSource: path.join(lake, 'events.lance'), externalSpec: { format: 'lance-table' } });
    const w = engine.watch({ collectionName: 'events' }, { mechanism, debounceMs: 100, pollIntervalMs: 100 });
    try {
      await w.ready;
      expect(w.status().mechanism).toBe(mechanism);
      const atVersion = (v: string) =>
        waitFor(`lance version ${v}`, async () => {
          const m = await engine.getManifest({ collectionName: 'events' });
          return m.tableVersion === v && m;
        });
      expect((await atVersion('1')).totalRows).toBe(100);
      await table.add(eventRows(100, 50));
      expect((await atVersion('2')).totalRows).toBe(150);
      await table.delete('id < 10');
      const m = await atVersion('3');
      expect(m.totalRows).toBe(await table.countRows());
      expect(m.totalRows).toBe(140);
      expect(w.status().errors).toEqual([]);
      // Data files written by the appends never triggered on their own: every change hint was a commit file.
      expect(w.status().lastEvent?.paths.every((p) => p.startsWith('_versions/') || p === '_versions')).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('follows an iceberg table as new snapshots are committed', async () => {
    const source = tempDir();
    const history = historyTable();
    writeFixtureTable(source, { ...history, snapshots: history.snapshots.slice(0, 1) });
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 't', externalSource: source, externalSpec: { format: 'iceberg-table' } });
    const w = engine.watch({ collectionName: 't' }, { mechanism, debounceMs: 100, pollIntervalMs: 100 });
    try {
      await w.ready;
      const atSnapshot = (id: bigint) =>
        waitFor(`iceberg snapshot ${id}`, async () => {
          const m = await engine.getManifest({ collectionName: 't' });
          return m.tableVersion === id.toString() && m;
        });
      expect((await atSnapshot(SNAP1)).physicalRows).toBe(30);
      writeFixtureTable(source, history); // data, manifests, manifest lists, then the metadata JSON and the hint
      const m = await atSnapshot(SNAP3);
      expect(m.physicalRows).toBe(37);
      expect(m.files.map((f) => f.path).sort()).toEqual(['data/day=19000/a.parquet', 'data/day=19001/b.parquet', 'data/day=19001/d.parquet']);
      expect(w.status().errors).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

it('a lance watch with native events does not watch the data directories', async () => {
  const lake = tempDir();
  const db = await connectFresh(lake);
  await db.createTable('events', eventRows(0, 10), { schema: EVENTS_SCHEMA });
  const { skippedDirs } = await import('../src/watch/choose.js');
  const { changeFilter } = await import('../src/watch/filter.js');
  const { lanceScanner } = await import('../scanners/index.js');
  const dirs = fs.readdirSync(path.join(lake, 'events.lance'));
  expect(dirs).toContain('data');
  const skipped = skippedDirs(path.join(lake, 'events.lance'), changeFilter(lanceScanner, { format: 'lance-table' }));
  expect(skipped).toContain('data');
  expect(skipped).not.toContain('_versions');
});
