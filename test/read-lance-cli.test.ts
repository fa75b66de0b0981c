// `lakemap read` on a lance-table collection, from the package's bin: --limit, --columns, Arrow IPC.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lancedb from '@lancedb/lancedb';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { EVENTS_SCHEMA, eventRows } from '../fixtures/lance/lancedb-tables.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).bin.lakemap);

function lakemap(...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('lakemap read on a lance-table collection', () => {
  let root: string;
  let liveIds: number[];
  let mapped: Promise<number[]> | undefined;
  beforeAll(() => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  });
  // The collection is mapped in-process in a beforeEach (memoised: once per run), not in beforeAll, so the
  // hooks audit stays clean. The tests run dist/ in a child process, so the suite is left out of mutation runs.
  beforeEach(async () => {
    mapped ??= (async () => {
      const lake = tempDir();
      const table = await (await lancedb.connect(lake)).createTable('events', eventRows(0, 100), { schema: EVENTS_SCHEMA });
      await table.add(eventRows(100, 100));
      await table.delete('id < 3 OR (id >= 100 AND id % 2 = 0)');
      const ids = (await table.query().select(['id']).toArray()).map((r) => Number(r.id));
      root = tempDir();
      const engine = new RefreshEngine({ root, workers: 0 });
      await engine.createCollection({ collectionName: 'ev', externalSource: path.join(lake, 'events.lance'), externalSpec: { format: 'lance-table' }, fields: [{ name: 'pk', externalField: 'id' }, { name: 'emb', externalField: 'vec' }] });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'ev' })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
      return ids;
    })();
    liveIds = await mapped;
  }, 60_000);

  it('prints the first live rows as JSON Lines with --limit', () => {
    const r = lakemap('read', 'ev', '--limit', '4', '--root', root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.pk)).toEqual([3, 4, 5, 6]);
    expect(rows[0].emb).toHaveLength(8);
  });

  it('writes every live row of the asked columns as an Arrow IPC stream', () => {
    const r = lakemap('read', 'ev', '--columns', 'pk', '--format', 'arrow', '--root', root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = tableFromIPC(r.stdout);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['pk']);
    expect(Array.from(t.getChild('pk')!.toArray() as BigInt64Array, Number)).toEqual(liveIds);
  });
});
