// Issue 8 item 3: a footer declaring a million columns costs the memory of the columns recorded, not
// of all it declares, and the manifest records the first MAX_RECORDED_COLUMNS with a warning.
// Measured in a child process (the built engine), so the test runner's heap does not blur the peak.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_RECORDED_COLUMNS } from '../src/scanner.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet, type SyntheticElement } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');

const COLUMNS = 1_000_000;

const HOST = `
const [distUrl, lake, root] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, workers: 0 });
await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
const m = info.state === 'RefreshCompleted' ? await engine.getManifest({ collectionName: 'c' }) : undefined;
console.log(JSON.stringify({
  state: info.state, reason: info.reason,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
  fields: m?.fileSchemas[0]?.fields.length, rows: m?.totalRows, warnings: m?.warnings,
}));
`;

/** Bytes of every file under `dir`. */
function treeBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

describe('a footer with a million columns', () => {
  it('is mapped within bounded memory and a small manifest, cut to the recorded columns with a warning', () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    const schema: SyntheticElement[] = [{ name: 's', numChildren: COLUMNS }];
    for (let i = 0; i < COLUMNS; i++) schema.push({ name: i.toString(36), type: T.I32, repetition: 1 });
    const footer = encodeFooter(footerForSchema(schema, 3));
    schema.length = 0;
    writeSyntheticParquet(path.join(lake, 'wide.parquet'), footer);
    const root = tempDir();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', HOST, `file://${dist}`, lake, root], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('RefreshCompleted');
    expect(out.rows).toBe(3);
    expect(out.fields).toBe(MAX_RECORDED_COLUMNS);
    expect(out.warnings.join('\n')).toContain(`wide.parquet: the schema has ${COLUMNS} top-level columns; only the first ${MAX_RECORDED_COLUMNS} are recorded`);
    const manifestBytes = treeBytes(root);
    console.log(`${COLUMNS} columns, footer ${(footer.length / 2 ** 20).toFixed(1)} MiB: peak RSS ${out.maxRssMiB.toFixed(0)} MiB, metadata root ${(manifestBytes / 2 ** 20).toFixed(2)} MiB`);
    expect(manifestBytes).toBeLessThan(5 * 2 ** 20);
    expect(out.maxRssMiB).toBeLessThan(300); // 580 MiB before the scanner stopped building columns past the cap
  }, 180_000);
});
