// A hinted refresh whose previous version has a sound file index but cannot be loaded whole (an entry
// damaged in place, its chunk's size unchanged): too much changed for the change-only path, every file
// is read again, and so the whole source is listed too, not the index plus the hint. From the
// directory-wide mutation sample (docs/testing.md): `hinted: true` on the hinted listing survived.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { parquetTemplates } from './helpers/parquet-templates.js';
import { tempDir } from './helpers/tmp.js';
import { refresh } from './helpers/engine-kit.js';

let templates: Buffer[] = [];
beforeAll(async () => {
  templates = await parquetTemplates(3, (t) => 30 + 10 * t);
}, 120_000);

describe('a hinted refresh over a version that cannot be loaded whole', () => {
  it('lists the whole source, so a file the hint omits is found, and says why on the job', async () => {
    const lake = tempDir();
    const root = tempDir();
    const put = (rel: string, t: number): void => {
      fs.mkdirSync(path.dirname(path.join(lake, rel)), { recursive: true });
      fs.writeFileSync(path.join(lake, rel), templates[t]!);
    };
    for (let i = 0; i < 8; i++) put(`${i < 4 ? 'a' : 'b'}/f${i}.parquet`, i % 3);
    const e = new RefreshEngine({ root, workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    expect((await refresh(e)).state).toBe('RefreshCompleted');
    await e.close();

    // Damage the first entry in place: same length, so the chunk sizes (all the file index checks) hold.
    const chunks = path.join(root, 'default', 'c', 'chunks');
    const entries = path.join(chunks, fs.readdirSync(chunks).find((n) => n.endsWith('.c.json'))!);
    const text = fs.readFileSync(entries, 'utf8');
    expect(text).toContain('"liveRows":30,');
    fs.writeFileSync(entries, text.replace('"liveRows":30,', '"liveRows":31,'));

    // Two of eight files rewritten (past the change-only path's share) and named; one added, not named.
    put('a/f1.parquet', 2);
    put('a/f2.parquet', 0);
    put('b/new.parquet', 1);
    const fresh = new RefreshEngine({ root, workers: 0 });
    const info = await refresh(fresh, ['a/f1.parquet', 'a/f2.parquet']);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.hint).toEqual({ listing: 'full', paths: 2, reason: 'the previous version could not be loaded whole' });
    expect(info.warnings.join('\n')).toMatch(/manifest version 1 .* is invalid and was not reused.*liveRows 31 exceed rows 30/);
    const m = await fresh.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => [f.path, f.rows])).toEqual([
      ['a/f0.parquet', 30],
      ['a/f1.parquet', 50],
      ['a/f2.parquet', 30],
      ['a/f3.parquet', 30],
      ['b/f4.parquet', 40],
      ['b/f5.parquet', 50],
      ['b/f6.parquet', 30],
      ['b/f7.parquet', 40],
      ['b/new.parquet', 40],
    ]);
    await fresh.close();
  });
});
