// The lance scanner lists `_versions/` by name only and stats just the manifest it reads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanceScanner } from '../scanners/lance/index.js';
import { LocalStorage } from '../src/storage/local.js';
import type { ListOptions, SourceStorage } from '../src/scanner.js';
import { writeManyFragmentsTable, type WrittenTable } from '../fixtures/lance/lancedb-tables.js';

let tmp: string;
let table: WrittenTable;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-io-'));
  table = await writeManyFragmentsTable(path.join(tmp, 'db'), 12); // 12 appends: 12+ versions
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A LocalStorage that counts stats and records list options. */
function counting(root: string): { storage: SourceStorage; stats: string[]; lists: (ListOptions | undefined)[] } {
  const local = new LocalStorage(root);
  const stats: string[] = [];
  const lists: (ListOptions | undefined)[] = [];
  const storage: SourceStorage = {
    root: local.root,
    stat: (p) => (stats.push(p), local.stat(p)),
    read: (p, o, l) => local.read(p, o, l),
    readFile: (p, m) => local.readFile(p, m),
    list: (d, o) => (lists.push(o), local.list(d, o)),
  };
  return { storage, stats, lists };
}

describe('lance _versions listing', () => {
  it('lists names only, stats one manifest, and maps the newest version', async () => {
    const versions = fs.readdirSync(path.join(table.datasetDir, '_versions')).filter((n) => n.endsWith('.manifest'));
    expect(versions.length).toBeGreaterThanOrEqual(12);
    const { storage, stats, lists } = counting(table.datasetDir);
    const snap = await lanceScanner.snapshot(storage, { spec: { format: 'lance-table' }, signal: new AbortController().signal, progress: () => {} });
    expect(lists).toEqual([{ stats: false }]);
    const manifestStats = stats.filter((p) => p.startsWith('_versions/'));
    expect(manifestStats).toHaveLength(1);
    expect(stats.length).toBeLessThanOrEqual(2); // that manifest, and the `_latest.manifest` probe
    expect(snap.tableVersion).toBe(String(await table.table.version()));
    expect(snap.entries.reduce((n, e) => n + (e.liveRows ?? e.rows), 0)).toBe(await table.table.countRows());
  });

  it('a names-only local listing leaves size and mtime at -1', async () => {
    const names = await new LocalStorage(table.datasetDir).list('_versions', { stats: false });
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((f) => f.size === -1 && f.mtimeMs === -1)).toBe(true);
  });
});
