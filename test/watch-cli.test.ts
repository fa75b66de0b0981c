// `lakemap watch` as a person runs it: in a terminal (tmux), one line per refresh, a clean exit on Ctrl-C;
// and --json lines, in process.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { watchUntil } from '../src/cli/watch-command.js';
import { RefreshEngine } from '../src/engine/engine.js';
import { withDuckDB } from '../fixtures/parquet/index.js';
import { gatedScanner } from './helpers/gate.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, 'dist/src/cli/bin.js');
const templates: Buffer[] = [];

beforeAll(async () => {
  const dir = tempDir();
  await withDuckDB(async (con) => {
    for (const rows of [10, 20]) {
      const f = path.join(dir, `${rows}.parquet`);
      await con.run(`COPY (SELECT i AS id FROM range(${rows}) t(i)) TO '${f}' (FORMAT parquet)`);
      templates.push(fs.readFileSync(f));
    }
  });
});

function sink(): { stream: Writable; text: () => string } {
  let out = '';
  return { stream: new Writable({ write: (c, _e, cb) => { out += c.toString(); cb(); } }), text: () => out };
}

async function lakeWithCollection(): Promise<{ lake: string; root: string }> {
  const lake = tempDir();
  fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
  const root = tempDir();
  const err = sink();
  expect(await runCli(['create', 'c', '--source', lake, '--format', 'parquet', '--root', root], { stdout: sink().stream, stderr: err.stream })).toBe(0);
  return { lake, root };
}

describe('lakemap watch (tmux)', () => {
  const tmux = ['-L', `lakemap-watch-${process.pid}`];
  const hasTmux = !spawnSync('tmux', ['-V']).error;
  afterAll(() => {
    if (hasTmux) spawnSync('tmux', [...tmux, 'kill-server']);
  });

  it('prints one line per refresh and exits cleanly on Ctrl-C', async () => {
    if (!hasTmux) throw new Error('this test needs tmux (apt-get install tmux)');
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    const { lake, root } = await lakeWithCollection();
    const cmd = `${process.execPath} ${bin} watch c --root ${root} --debounce 100; echo "exit code $?"; sleep 600`;
    const started = spawnSync('tmux', [...tmux, 'new-session', '-d', '-s', 'w', '-x', '220', '-y', '50', cmd], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    const screen = (): string => spawnSync('tmux', [...tmux, 'capture-pane', '-p', '-t', 'w', '-S', '-100'], { encoding: 'utf8' }).stdout;
    await waitFor('the first refresh line', () => screen().includes('committed version 1'));
    expect(screen()).toMatch(/watching default\.c at .* \((parcel|poll): /);
    fs.writeFileSync(path.join(lake, 'b.parquet'), templates[1]!);
    await waitFor('the second refresh line', () => screen().includes('committed version 2'));
    spawnSync('tmux', [...tmux, 'send-keys', '-t', 'w', 'C-c']);
    await waitFor('the exit', () => screen().includes('exit code'));
    const text = screen();
    expect(text).toContain('exit code 0');
    const lines = text.split('\n').filter((l) => / default\.c (committed|no change|refresh failed|refresh cancelled|another engine)/.test(l));
    // Change events are hints: one change may come as two batches (a loaded machine delays the second
    // past the debounce), and the second gives a refresh that finds nothing new. Such a "no change" line
    // is right, and so is, last, that refresh cancelled by Ctrl-C; a third commit, a failure or a missing
    // line is not.
    const committed = lines.filter((l) => l.includes(' committed '));
    expect(committed).toHaveLength(2);
    expect(committed[0]).toMatch(/committed version 1: 1 added, 0 removed, 0 modified, 0 unchanged files, 10 rows/);
    expect(committed[1]).toMatch(/committed version 2: 1 added, 0 removed, 0 modified, 1 unchanged files, 30 rows/);
    const stopped = lines.at(-1)!.includes(' refresh cancelled: stopping') ? 1 : 0;
    for (const l of lines.slice(0, lines.length - stopped).filter((x) => !x.includes(' committed '))) expect(l).toMatch(/ no change, version [12] is current/);
    expect(text).toContain(`stopped watching default.c after ${lines.length} refresh(es)`);
    expect(text).not.toMatch(/Error|at .*\.js:\d+/);
  });
});

describe('lakemap watch (in process)', () => {
  it('--json prints one JSON object per refresh', async () => {
    const { lake, root } = await lakeWithCollection();
    const out = sink();
    const err = sink();
    const stop = new AbortController();
    const engine = new RefreshEngine({ root });
    const ctx = { args: ['c'], values: { debounce: '50', 'poll-interval': '100', json: true }, io: { stdout: out.stream, stderr: err.stream }, engine, dbName: 'default', json: true };
    const run = watchUntil(ctx, stop.signal);
    await waitFor('first line', () => out.text().split('\n').length > 1);
    fs.rmSync(path.join(lake, 'a.parquet'));
    fs.writeFileSync(path.join(lake, 'b.parquet'), templates[1]!);
    await waitFor('second line', () => out.text().includes('"version":2'));
    stop.abort();
    expect(await run).toBe(0);
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l));
    // One change may come as two event batches under load: the second gives a refresh that commits
    // nothing (a line of its own, at the current version). Commits are exactly the two changes.
    const commits = lines.filter((l) => l.committed);
    expect(commits.map((l) => [l.state, l.version, l.totalRows])).toEqual([['RefreshCompleted', 1, 10], ['RefreshCompleted', 2, 20]]);
    expect(commits[1].changes.files).toMatchObject({ added: 1, removed: 1 });
    // So may, last, that refresh cancelled by stopping the watch.
    const rowsAt: Record<number, number> = { 1: 10, 2: 20 };
    const stopped = lines.at(-1).errorCode === 'CANCELLED' ? 1 : 0;
    for (const l of lines.slice(0, lines.length - stopped).filter((x) => !x.committed)) expect([l.state, l.totalRows]).toEqual(['RefreshCompleted', rowsAt[l.version]]);
    expect(err.text()).toContain('watching default.c');
  });

  it('a refresh in flight at stop is reported as cancelled by stopping, not as a failure to retry', async () => {
    const g = gatedScanner();
    const lake = tempDir();
    writeJsonl(path.join(lake, 'a.jsonl'), 3);
    const engine = new RefreshEngine({ root: tempDir(), scanners: [g.scanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'jsonl' } });
    const out = sink();
    const stop = new AbortController();
    const ctx = { args: ['c'], values: {}, io: { stdout: out.stream, stderr: sink().stream }, engine, dbName: 'default', json: false };
    const run = watchUntil(ctx, stop.signal);
    await g.probing; // the first refresh is in flight, held at the gate
    stop.abort();
    await g.aborted; // stopping cancelled it
    g.open();
    expect(await run).toBe(0);
    expect(out.text()).toMatch(/^\S+ default\.c refresh cancelled: stopping; the current version stays\n$/);
  });

  it('refuses bad options with usage (exit 2) and an unknown collection with its code (exit 1)', async () => {
    const err = sink();
    const io = { stdout: sink().stream, stderr: err.stream };
    expect(await runCli(['watch'], io)).toBe(2);
    expect(await runCli(['watch', 'c', '--debounce', 'soon'], io)).toBe(2);
    expect(err.text()).toContain('--debounce must be a whole number of milliseconds');
    expect(await runCli(['watch', 'nope', '--root', tempDir()], io)).toBe(1);
    expect(err.text()).toContain('COLLECTION_NOT_FOUND');
  });
});
