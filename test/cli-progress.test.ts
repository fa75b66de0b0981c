// The progress line itself: always within the width, phases, ETA, colour rules, terminal or not.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PlainProgress, TerminalProgress, phaseOf, progressFor, renderLine } from '../src/cli/progress.js';
import type { RefreshJobInfo } from 'lakemap';

function job(over: Partial<RefreshJobInfo>): RefreshJobInfo {
  return {
    jobId: '1', collectionName: 'c', dbName: 'default', state: 'RefreshInProgress', progress: 0, reason: '', errorCode: '',
    externalSource: '/x', externalSpec: { format: 'parquet' }, startTime: Date.now() - 5000, endTime: 0, filesTotal: 0,
    filesDone: 0, version: 0, committed: false, skipped: [], warnings: [], ...over,
  };
}

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
const clock = { start: Date.now() - 5000, eta: () => 42_000 };

describe('progress line', () => {
  it('phases follow the job', () => {
    expect(phaseOf(job({ state: 'RefreshPending' }))).toBe('waiting');
    expect(phaseOf(job({ progress: 0 }))).toBe('listing');
    expect(phaseOf(job({ progress: 40, filesTotal: 100, filesDone: 40 }))).toBe('scanning');
    expect(phaseOf(job({ progress: 96, filesTotal: 100, filesDone: 100 }))).toBe('committing');
    expect(phaseOf(job({ state: 'RefreshCompleted', progress: 100 }))).toBe('done');
    expect(phaseOf(job({ state: 'RefreshFailed' }))).toBe('failed');
  });

  it('never exceeds the width, from 19 to 200 columns, coloured or not', () => {
    const states = [
      job({ progress: 1 }),
      job({ progress: 57, filesTotal: 123_456, filesDone: 70_000 }),
      job({ state: 'RefreshCompleted', progress: 100, filesTotal: 123_456, filesDone: 123_456, endTime: Date.now() }),
    ];
    for (let width = 19; width <= 200; width++) {
      for (const j of states) {
        for (const color of [false, true]) {
          const { text, visible } = renderLine(j, 'somedb.some_long_collection_name', width, clock, color);
          expect(strip(text).length, `${width}: ${strip(text)}`).toBe(visible);
          expect(visible, `${width}: ${strip(text)}`).toBeLessThanOrEqual(width);
          if (!color) expect(text.includes('\x1b'), `${width}`).toBe(false);
        }
      }
    }
  });

  it('shows the label, phase, bar, count and ETA when there is room, dropping them by priority when not', () => {
    const scanning = job({ progress: 57, filesTotal: 20_000, filesDone: 11_000 });
    expect(strip(renderLine(scanning, 'default.trips', 119, clock, false).text)).toMatch(/^default\.trips scanning █+░+  57% 11000\/20000 files ETA 42s$/);
    expect(strip(renderLine(scanning, 'default.trips', 49, clock, false).text)).toMatch(/^scanning █+░+  57% 11000\/20000 files ETA 42s$/);
    expect(strip(renderLine(scanning, 'default.trips', 31, clock, false).text)).toBe('scanning  57% 11000/20000 files');
    expect(strip(renderLine(scanning, 'default.trips', 25, clock, false).text)).toBe('scanning  57% 11000/20000');
  });

  it('progressFor: a bar only on a terminal without CI; plain lines otherwise', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    const pipe = new PassThrough();
    const v1 = progressFor({ stdout: pipe, stderr: tty, env: {} }, 'x');
    expect(v1).toBeInstanceOf(TerminalProgress);
    v1.dispose();
    expect(progressFor({ stdout: pipe, stderr: tty, env: { CI: 'true' } }, 'x')).toBeInstanceOf(PlainProgress);
    expect(progressFor({ stdout: pipe, stderr: tty, env: { TERM: 'dumb' } }, 'x')).toBeInstanceOf(PlainProgress);
    expect(progressFor({ stdout: pipe, stderr: pipe, env: {} }, 'x')).toBeInstanceOf(PlainProgress);
  });

  it('NO_COLOR: the bar is drawn without colour codes', () => {
    for (const [env, coloured] of [[{}, true], [{ NO_COLOR: '1' }, false]] as const) {
      const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
      let out = '';
      tty.on('data', (d: Buffer) => (out += d.toString()));
      const v = progressFor({ stdout: new PassThrough(), stderr: tty, env }, 'x');
      v.finish(job({ state: 'RefreshCompleted', progress: 100, endTime: Date.now() }));
      expect(/\x1b\[[0-9;]*m/.test(out), JSON.stringify(env)).toBe(coloured);
      expect(strip(out)).toMatch(/^\rx done █+ 100% in \d/);
    }
  });
});
