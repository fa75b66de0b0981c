// One refresh per collection across processes on one root: children run the built engine (dist/).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');

// argv: dist url, root, gate file ('' for none). Prints {"jobId"} once started, then the final info,
// or {"refused": code, "message"} when the call is refused.
const CHILD = `
import fs from 'node:fs';
import { Schema, Field, Float64 } from 'apache-arrow';
const [distUrl, root, gate] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const scanner = {
  kind: 'file', format: 'jsonl', extensions: ['.jsonl'], tailBytes: 0,
  async probe(file) {
    while (gate && !fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
    const rows = new TextDecoder().decode(await file.read(0, file.size)).split('\\n').filter((l) => l).length;
    return { rows, units: [{ rows, byteSize: 0 }], schema: new Schema([new Field('id', new Float64(), true)]) };
  },
};
const engine = new RefreshEngine({ root, scanners: [scanner], workers: 0 });
let jobId;
try {
  ({ jobId } = await engine.refreshExternalCollection({ collectionName: 'c' }));
} catch (e) {
  console.log(JSON.stringify({ refused: e.code, message: e.message }));
  process.exit(0);
}
console.log(JSON.stringify({ jobId }));
console.log(JSON.stringify(await engine.waitForRefresh(jobId)));
`;

function startChild(root: string, gate: string): { child: ChildProcessWithoutNullStreams; lines: AsyncIterator<string>; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, `file://${dist}`, root, gate], { cwd: repo });
  const queue: string[] = [];
  const waiters: ((v: IteratorResult<string>) => void)[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w({ value: line, done: false });
      else queue.push(line);
    }
  });
  const done = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      for (const w of waiters.splice(0)) w({ value: `child ended (${code}): ${stderr}`, done: true });
      r(code);
    }),
  );
  const lines: AsyncIterator<string> = {
    next: () => (queue.length ? Promise.resolve({ value: queue.shift()!, done: false }) : new Promise((r) => waiters.push(r))),
  };
  return { child, lines, done };
}

async function nextJson(lines: AsyncIterator<string>): Promise<Record<string, unknown>> {
  const { value, done } = await lines.next();
  if (done) throw new Error(value);
  return JSON.parse(value) as Record<string, unknown>;
}

async function collection(files = 3): Promise<{ root: string; source: string; engine: RefreshEngine }> {
  const root = tempDir();
  const source = tempDir();
  for (let i = 0; i < files; i++) writeJsonl(path.join(source, `part-${i}.jsonl`), 10, i * 10);
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  return { root, source, engine };
}

describe('two processes on one root', () => {
  beforeAll(() => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
  });

  it('refuses a refresh at the call while another process holds the lock, and shows and waits for its job', async () => {
    const { root, engine } = await collection();
    const gate = path.join(tempDir(), 'open');
    const a = startChild(root, gate);
    const { jobId } = (await nextJson(a.lines)) as { jobId: string };
    const e = await engine.refreshExternalCollection({ collectionName: 'c' }).then(
      () => undefined,
      (err: unknown) => err as LakemapError,
    );
    expect(e?.code).toBe('REFRESH_IN_PROGRESS');
    expect(e?.message).toContain(`process ${a.child.pid}`);
    expect(e?.message).toContain(jobId);
    expect((await engine.dropCollection({ collectionName: 'c' }).catch((err: LakemapError) => err))?.code).toBe('REFRESH_IN_PROGRESS');
    expect(engine.getRefreshExternalCollectionProgress(jobId).state).toMatch(/^Refresh(Pending|InProgress)$/);
    const cli = spawnSync(process.execPath, [path.join(repo, 'dist', 'src', 'cli', 'bin.js'), 'job', jobId, '--json', '--root', root], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ jobId, state: expect.stringMatching(/^Refresh(Pending|InProgress)$/) });
    fs.writeFileSync(gate, '');
    const info = await engine.waitForRefresh(jobId);
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 1, committed: true });
    expect(await nextJson(a.lines)).toMatchObject({ jobId, state: 'RefreshCompleted', version: 1 });
    expect(await a.done).toBe(0);
    const list = spawnSync(process.execPath, [path.join(repo, 'dist', 'src', 'cli', 'bin.js'), 'jobs', 'c', '--root', root], { encoding: 'utf8' });
    expect(list.stdout).toContain(`${jobId}  default.c  RefreshCompleted  version 1 committed`);
  });

  it('two processes started together never commit the same version', async () => {
    const { root, source, engine } = await collection();
    for (let round = 0; round < 3; round++) {
      writeJsonl(path.join(source, `more-${round}.jsonl`), 4);
      const before = (await engine.listManifestVersions({ collectionName: 'c' })).at(-1) ?? 0;
      const children = [startChild(root, ''), startChild(root, '')];
      const results: Record<string, unknown>[] = [];
      for (const c of children) {
        const first = await nextJson(c.lines);
        results.push(first.refused ? first : await nextJson(c.lines));
        expect(await c.done).toBe(0);
      }
      const committed = results.filter((r) => r.committed === true);
      for (const r of results) {
        if (r.refused) expect(r.refused).toBe('REFRESH_IN_PROGRESS');
        else expect(r.state, String(r.reason)).toBe('RefreshCompleted');
      }
      expect(committed.length).toBeGreaterThanOrEqual(1);
      // Each committed version is the one its job wrote: nothing replaced another's commit.
      expect(new Set(committed.map((r) => r.version)).size).toBe(committed.length);
      for (const r of committed) {
        expect((await engine.getManifest({ collectionName: 'c', version: r.version as number })).jobId).toBe(r.jobId);
      }
      expect((await engine.getManifest({ collectionName: 'c' })).version).toBe(before + 1);
    }
  });

  it('a job whose process was killed reads as failed, and its stale lock is taken over', async () => {
    const { root, engine } = await collection();
    const a = startChild(root, path.join(tempDir(), 'never'));
    const { jobId } = (await nextJson(a.lines)) as { jobId: string };
    a.child.kill('SIGKILL');
    await a.done;
    const info = engine.getRefreshExternalCollectionProgress(jobId);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'PROCESS_ENDED' });
    expect(info.reason).toMatch(/process that ran it ended/);
    expect(fs.existsSync(path.join(root, 'default', 'c', 'refresh.lock'))).toBe(true);
    const next = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(next).toMatchObject({ state: 'RefreshCompleted', version: 1 });
  });
});

describe('lock holders', () => {
  it('a lock naming a live pid with another start time (a reused pid) is stale', async () => {
    const { root, engine } = await collection();
    const lock = path.join(root, 'default', 'c', 'refresh.lock');
    const holder = { pid: process.ppid, token: 'x', startTime: '1', hostname: os.hostname(), jobId: 'old', purpose: 'refresh', acquiredAt: 1 };
    fs.writeFileSync(lock, JSON.stringify(holder));
    expect((await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId)).state).toBe('RefreshCompleted');
  });

  it('a lock naming a live pid with its real start time is respected', async () => {
    const { root, engine } = await collection();
    const lock = path.join(root, 'default', 'c', 'refresh.lock');
    const start = fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, token: 'x', startTime: start, hostname: os.hostname(), jobId: 'theirs', purpose: 'refresh', acquiredAt: 1 }));
    const e = await engine.refreshExternalCollection({ collectionName: 'c' }).catch((err: LakemapError) => err);
    expect((e as LakemapError).code).toBe('REFRESH_IN_PROGRESS');
    expect((e as LakemapError).message).toContain('job theirs');
  });
});
