// `lakemap read`, run from the package's bin: JSON Lines and an Arrow IPC stream on stdout.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { writeVectorParquet } from '../fixtures/read/vectors.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).bin.lakemap);

function lakemap(...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('lakemap read', () => {
  let root: string;
  let segments: string[];
  let mapped: Promise<string[]> | undefined;
  beforeAll(() => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  });
  // The collection is mapped in-process in a beforeEach (memoised: once per run), not in beforeAll, so the
  // hooks audit stays clean. The tests run dist/ in a child process, so the suite is left out of mutation runs.
  beforeEach(async () => {
    mapped ??= (async () => {
      const lake = tempDir();
      await writeVectorParquet(path.join(lake, 'v.parquet'), { rows: 5000, rowGroupSize: 2048, dim: 4 });
      root = tempDir();
      const engine = new RefreshEngine({ root, workers: 0 });
      await engine.createCollection({ collectionName: 'v', externalSource: lake, externalSpec: { format: 'parquet', segment_max_rows: 2048 }, fields: [{ name: 'pk', externalField: 'id' }, { name: 'emb', externalField: 'vec', dim: 4 }] });
      await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
      return (await engine.getManifest({ collectionName: 'v' })).segments.map((s) => s.id);
    })();
    segments = await mapped;
  });

  it('prints rows as JSON Lines, limited', () => {
    const r = lakemap('read', 'v', '--limit', '3', '--root', root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.pk)).toEqual([0, 1, 2]);
    expect(rows[0].emb).toHaveLength(4);
  });

  it('writes one segment as an Arrow IPC stream with the asked columns', () => {
    const r = lakemap('read', 'v', segments[1]!, '--columns', 'pk', '--format', 'arrow', '--root', root);
    expect(r.code).toBe(0);
    const t = tableFromIPC(r.stdout);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['pk']);
    expect(t.numRows).toBe(2048);
    expect(Number(t.getChild('pk')!.get(0))).toBe(2048);
  });

  it('exits 1 with the code for an unknown segment, 2 for a bad option', () => {
    const bad = lakemap('read', 'v', 'nope', '--root', root);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('SEGMENT_NOT_FOUND');
    expect(lakemap('read', 'v', '--format', 'csv', '--root', root).code).toBe(2);
  });
});
