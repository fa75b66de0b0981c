// lance-table end to end through RefreshEngine: versions, appends, deletes, declared fields.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import type { RefreshJobInfo } from '../src/types.js';
import { lanceScanner } from '../scanners/lance/index.js';
import { EVENTS_SCHEMA, connectFresh, eventRows } from '../fixtures/lance/lancedb-tables.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-e2e-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function refresh(engine: RefreshEngine, collectionName = 'events'): Promise<RefreshJobInfo> {
  return engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
}

describe('lance-table through the engine', () => {
  it('follows appends and deletes, keeping segment ids of untouched fragments and committing nothing without a new version', async () => {
    const lake = tempDir();
    const db = await connectFresh(lake);
    const table = await db.createTable('events', eventRows(0, 100), { schema: EVENTS_SCHEMA });
    const engine = new RefreshEngine({ root: tempDir(), scanners: [lanceScanner] });
    await engine.createCollection({
      collectionName: 'events',
      externalSource: path.join(lake, 'events.lance'),
      externalSpec: { format: 'lance-table' },
      fields: [{ name: 'id', externalField: 'id' }, { name: 'embedding', externalField: 'vec' }],
    });

    const first = await refresh(engine);
    expect(first.state, first.reason).toBe('RefreshCompleted');
    const m1 = await engine.getManifest({ collectionName: 'events' });
    expect(m1.tableVersion).toBe('1');
    expect(m1.totalRows).toBe(100);
    expect(m1.schema.fields.map((f) => [f.name, f.type])).toEqual([['id', 'Int64'], ['embedding', 'FixedSizeList[8]<Float32>']]);

    const same = await refresh(engine);
    expect(same.state).toBe('RefreshCompleted');
    expect(same.committed).toBe(false);

    await table.add(eventRows(100, 30));
    await refresh(engine);
    const m2 = await engine.getManifest({ collectionName: 'events' });
    expect(m2.tableVersion).toBe('2');
    expect(m2.totalRows).toBe(130);
    expect(m2.segments[0]!.id).toBe(m1.segments[0]!.id);
    expect(m2.segments).toHaveLength(2);

    await table.delete('id >= 100 AND id < 110');
    await refresh(engine);
    const m3 = await engine.getManifest({ collectionName: 'events' });
    expect(m3.totalRows).toBe(await table.countRows());
    expect(m3.totalRows).toBe(120);
    expect(m3.physicalRows).toBe(130);
    expect(m3.segments[0]!.id).toBe(m2.segments[0]!.id); // fragment 0 untouched
    expect(m3.segments[1]!.id).not.toBe(m2.segments[1]!.id); // fragment 1 gained a deletion file
    const frag1 = m3.files[1]!;
    expect(frag1.details).toMatchObject({ fragmentId: 1, physicalRows: 30, deletedRows: 10, liveRows: 20 });
  });

  it('pins a version with the spec key and fails with the available versions for an unknown one', async () => {
    const lake = tempDir();
    const table = await (await connectFresh(lake)).createTable('events', eventRows(0, 10), { schema: EVENTS_SCHEMA });
    await table.add(eventRows(10, 10));
    const engine = new RefreshEngine({ root: tempDir(), scanners: [lanceScanner] });
    const source = path.join(lake, 'events.lance');
    await engine.createCollection({ collectionName: 'pinned', externalSource: source, externalSpec: { format: 'lance-table', version: 1 } });
    await engine.createCollection({ collectionName: 'missing', externalSource: source, externalSpec: { format: 'lance-table', version: 7 } });

    expect((await refresh(engine, 'pinned')).state).toBe('RefreshCompleted');
    expect((await engine.getManifest({ collectionName: 'pinned' })).totalRows).toBe(10);
    await table.add(eventRows(20, 10));
    expect((await refresh(engine, 'pinned')).committed).toBe(false);

    const failed = await refresh(engine, 'missing');
    expect(failed.state).toBe('RefreshFailed');
    expect(failed.errorCode).toBe('VERSION_NOT_FOUND');
    expect(failed.reason).toMatch(/no version 7; available: 1, 2, 3/);
  });

  it('checks declared fields against the Lance schema', async () => {
    const lake = tempDir();
    await (await connectFresh(lake)).createTable('events', eventRows(0, 5), { schema: EVENTS_SCHEMA });
    const engine = new RefreshEngine({ root: tempDir(), scanners: [lanceScanner] });
    await engine.createCollection({
      collectionName: 'bad',
      externalSource: path.join(lake, 'events.lance'),
      externalSpec: { format: 'lance-table' },
      fields: [{ name: 'x', externalField: 'no_such_column' }],
    });
    const failed = await refresh(engine, 'bad');
    expect(failed.state).toBe('RefreshFailed');
    expect(failed.errorCode).toBe('FIELD_NOT_FOUND');
    expect(failed.reason).toMatch(/no_such_column/);
  });
});
