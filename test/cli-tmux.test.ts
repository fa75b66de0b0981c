// The CLI as a person sees it: `lakemap refresh` of a lake of 20,000 small parquet files in a real
// terminal (tmux), the pane captured while it runs, in 50 and 120 columns and across a resize.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, 'dist/src/cli/bin.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('SKIPPED: cli-tmux.test.ts needs tmux (apt-get install tmux); the terminal view of the CLI is NOT tested');
const FILES = 20_000;
const socket = `lakemap-test-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

/** The visible screen, one string per row; with `joined`, rows a long line wrapped into are joined back. */
const screen = (session: string, joined = false): string[] => tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', session).split('\n');

/** Runs `cmd` in a fresh pane of `cols` columns; captures the screen every 40 ms until it exits. */
async function runInPane(session: string, cols: number, cmd: string, during?: (frames: number) => void): Promise<{ frames: string[][]; joined: string[] }> {
  tmux('new-session', '-d', '-s', session, '-x', String(cols), '-y', '30', 'bash --norc --noprofile');
  tmux('set-option', '-t', session, 'window-size', 'manual');
  tmux('send-keys', '-t', session, `PS1='$ '; clear`, 'Enter');
  // The command is typed on the cleared screen, at the short prompt: wait for it (bash starts slowly on a
  // loaded machine), not for a fixed 300 ms.
  await waitFor('a cleared screen with the prompt', () => screen(session).map((l) => l.trimEnd()).filter(Boolean).join('\n') === '$');
  tmux('send-keys', '-t', session, `${cmd}; echo "__EXIT=$?"`, 'Enter');
  const frames: string[][] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const s = screen(session);
    frames.push(s);
    during?.(frames.length);
    if (s.some((l) => l.startsWith('__EXIT='))) break;
    await new Promise((r) => setTimeout(r, 40));
  }
  const joined = screen(session, true);
  tmux('kill-session', '-t', session);
  return { frames, joined };
}

describe.skipIf(!hasTmux)('lakemap refresh in a terminal (tmux)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
    dir = tempDir();
    fs.mkdirSync(path.join(dir, 'lake'));
    await writeManyParquetFiles(path.join(dir, 'lake'), FILES);
    // A short command line, so it does not wrap in 50 columns.
    fs.writeFileSync(path.join(dir, 'lm'), `#!/bin/sh\nexec env -u CI -u NO_COLOR "${process.execPath}" "${bin}" "$@" --root "${dir}/meta"\n`, { mode: 0o755 });
  }, 120_000);
  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  });

  for (const cols of [50, 120]) {
    it(`${cols} columns: one bar line that fits, a phase label while running, then the summary`, async () => {
      const name = `c${cols}`;
      expect(spawnSync(path.join(dir, 'lm'), ['create', name, '--source', path.join(dir, 'lake'), '--format', 'parquet']).status).toBe(0);
      const { frames, joined } = await runInPane(`t${cols}`, cols, `cd ${dir} && ./lm refresh ${name}`);
      const final = frames.at(-1)!;
      expect(final.some((l) => l === '__EXIT=0'), final.join('\n')).toBe(true);
      const running = frames.filter((f) => !f.some((l) => l.startsWith('__EXIT=')));
      // While it ran, the screen showed a phase, and never more than one progress line.
      const phases = new Set(running.flatMap((f) => f.map((l) => /\b(listing|scanning|committing)\b/.exec(l)?.[1]).filter(Boolean)));
      expect(phases.has('scanning') || phases.has('listing'), `phases seen: ${[...phases].join(',')}`).toBe(true);
      for (const f of running) {
        const barLines = f.filter((l) => /\b(listing|scanning|committing|done)\b/.test(l));
        expect(barLines.length, f.join('\n')).toBeLessThanOrEqual(1);
      }
      const scanningLine = running.flatMap((f) => f).find((l) => /scanning .*\d+\/20000 files/.test(l) || /scanning .*%/.test(l));
      expect(scanningLine, 'a scanning line with a count').toBeDefined();
      // After: the command, one final bar line, the summary, the exit line; nothing stale.
      const text = final.filter((l) => l.trim() !== '');
      expect(text[0]!.startsWith(`$ cd ${dir} && ./lm refresh ${name}`.slice(0, cols))).toBe(true);
      const doneLines = text.filter((l) => /\bdone\b/.test(l));
      expect(doneLines, text.join('\n')).toHaveLength(1);
      expect(doneLines[0]).toMatch(/done .*100% 20000 files in \d/);
      if (cols >= 120) expect(doneLines[0]).toMatch(new RegExp(`^default\\.${name} done █+ 100% 20000 files in \\d`));
      expect(joined).toContain('files: 20000 added, 0 removed, 0 modified, 0 unchanged');
      expect(text.some((l) => l.startsWith('committed manifest version 1 in '))).toBe(true);
      expect(text.filter((l) => /scanning|listing|committing/.test(l))).toEqual([]);
      for (const l of final) expect(l.length).toBeLessThanOrEqual(cols);
    });
  }

  it('resized from 120 to 50 columns mid-run: the bar is redrawn to fit, no stale lines', async () => {
    expect(spawnSync(path.join(dir, 'lm'), ['create', 'rs', '--source', path.join(dir, 'lake'), '--format', 'parquet']).status).toBe(0);
    let resized = false;
    const { frames } = await runInPane('rs', 120, `cd ${dir} && ./lm refresh rs`, () => {
      const s = screen('rs');
      if (!resized && s.some((l) => /scanning|listing/.test(l))) {
        tmux('resize-window', '-t', 'rs', '-x', '50');
        resized = true;
      }
    });
    expect(resized, 'the refresh ran long enough to resize during it').toBe(true);
    const final = frames.at(-1)!.filter((l) => l.trim() !== '');
    expect(final).toContain('__EXIT=0');
    expect(final.filter((l) => /\bdone\b/.test(l))).toHaveLength(1);
    expect(final.filter((l) => /scanning|listing|committing|█|░/.test(l) && !/\bdone\b/.test(l))).toEqual([]);
    for (const l of frames.at(-1)!) expect(l.length).toBeLessThanOrEqual(50);
  });
});
