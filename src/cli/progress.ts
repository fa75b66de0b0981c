// Progress of a refresh on stderr: a one-line bar on a terminal, plain lines anywhere else.
import type { RefreshJobInfo } from '../types.js';
import type { CliIO } from './command.js';

/** How a refresh's progress is shown. */
export interface ProgressView {
  /** The job changed; may redraw (throttled). */
  update(job: RefreshJobInfo): void;
  /** The job ended: draws the final state and ends the line. */
  finish(job: RefreshJobInfo): void;
  /** Stops timers and resize listening (idempotent). */
  dispose(): void;
}

/** Phase of a job as a person reads it. */
export type Phase = 'waiting' | 'listing' | 'scanning' | 'committing' | 'done' | 'failed';

// Mirrors the engine's progress budget (scan/sources.ts): listing ends at 3 %, scanning at 95 %.
const LISTED = 3;
const SCANNED = 95;

/** The phase a job is in, from its public info. */
export function phaseOf(job: RefreshJobInfo): Phase {
  if (job.state === 'RefreshCompleted') return 'done';
  if (job.state === 'RefreshFailed') return 'failed';
  if (job.state === 'RefreshPending') return 'waiting';
  if (job.filesTotal === 0 && job.progress < LISTED) return 'listing';
  if (job.progress >= SCANNED || (job.filesTotal > 0 && job.filesDone >= job.filesTotal)) return 'committing';
  return 'scanning';
}

/** The view for `io`: a bar when stderr is a terminal and `CI` is unset, else plain lines. */
export function progressFor(io: CliIO, label: string): ProgressView {
  const env = io.env ?? process.env;
  const tty = io.stderr.isTTY === true && !env.CI && env.TERM !== 'dumb';
  if (!tty) return new PlainProgress(io.stderr, label);
  return new TerminalProgress(io.stderr, label, !env.NO_COLOR);
}

/** `1.2s`, `42s`, `3m05s`. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Tracks when scanning started, for the rate behind the ETA. */
class Clock {
  readonly start = Date.now();
  private scanStart = 0;
  private scanDoneAtStart = 0;

  eta(job: RefreshJobInfo, now: number): number | undefined {
    if (phaseOf(job) !== 'scanning') return undefined;
    if (this.scanStart === 0) {
      this.scanStart = now;
      this.scanDoneAtStart = job.filesDone;
      return undefined;
    }
    const done = job.filesDone - this.scanDoneAtStart;
    const elapsed = now - this.scanStart;
    // Only long runs get an ETA: a guess from less than a second of work jumps around.
    if (done <= 0 || elapsed < 1000 || now - this.start < 2000) return undefined;
    return ((job.filesTotal - job.filesDone) * elapsed) / done;
  }
}

/** A one-line bar that always fits the terminal's width, redrawn on resize and every 250 ms. */
export class TerminalProgress implements ProgressView {
  private readonly clock = new Clock();
  private last: RefreshJobInfo | undefined;
  private lastDraw = 0;
  /** Visible length of the line on screen, to know how many rows it wraps into after a resize. */
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;
  private drawnCols = 0;
  private readonly onResize = (): void => void (this.last && this.draw(this.last));
  private disposed = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly label: string,
    private readonly color: boolean,
  ) {
    this.timer = setInterval(() => this.last && this.draw(this.last), 250);
    this.timer.unref();
    out.on?.('resize', this.onResize);
  }

  update(job: RefreshJobInfo): void {
    this.last = job;
    if (Date.now() - this.lastDraw >= 50) this.draw(job);
  }

  finish(job: RefreshJobInfo): void {
    this.draw(job);
    this.out.write('\n');
    this.drawn = 0;
    this.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.timer);
    this.out.off?.('resize', this.onResize);
  }

  /**
   * The terminal's width now. Node updates `columns` only when it handles SIGWINCH, which may come
   * after a redraw that is already due (a timer, a progress event): ask the terminal itself first.
   */
  private columns(): number {
    const handle = (this.out as { _handle?: { getWindowSize?: (size: number[]) => number } })._handle;
    const size: number[] = [];
    try {
      if (typeof handle?.getWindowSize === 'function' && handle.getWindowSize(size) === 0 && size[0]! > 0) return Math.max(20, size[0]!);
    } catch {
      // not a terminal handle: fall back to `columns`
    }
    return Math.max(20, this.out.columns || 80);
  }

  private draw(job: RefreshJobInfo): void {
    this.lastDraw = Date.now();
    const cols = this.columns();
    let start = '\r';
    if (this.drawn > 0 && cols !== this.drawnCols) {
      // Resized since the last draw: terminals re-wrap the old line at the new width. Go up to its
      // first row and clear from there, so no piece of it stays on screen.
      const rows = Math.ceil(this.drawn / cols);
      start = `${rows > 1 ? `\x1b[${rows - 1}A` : ''}\r\x1b[J`;
    }
    const { text, visible } = renderLine(job, this.label, cols - 1, this.clock, this.color);
    this.drawn = visible;
    this.drawnCols = cols;
    this.out.write(`${start}${text}\x1b[K`);
  }
}

const SGR = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', reset: '\x1b[0m' };

/**
 * One bar line of at most `width` visible characters: label, phase, bar, percent, file count, ETA.
 * What does not fit goes, least useful first: the bar shrinks, then the label, the bar, the ETA.
 */
export function renderLine(job: RefreshJobInfo, label: string, width: number, clock: Pick<Clock, 'eta' | 'start'>, color: boolean): { text: string; visible: number } {
  const now = Date.now();
  const phase = phaseOf(job);
  const pct = `${String(job.progress).padStart(3)}%`;
  let count = '';
  if (phase === 'listing' || phase === 'waiting') count = `${phase === 'listing' && job.filesDone > 0 ? ` ${job.filesDone} files found` : ''} ${duration(now - clock.start)}`;
  else if (job.filesTotal > 0) count = phase === 'done' ? ` ${job.filesTotal} files` : ` ${job.filesDone}/${job.filesTotal} files`;
  const eta = clock.eta(job, now);
  let etaText = eta === undefined ? '' : ` ETA ${duration(eta)}`;
  if (phase === 'done' || phase === 'failed') etaText = ` in ${duration((job.endTime || now) - (job.startTime || clock.start))}`;
  const paint = (code: string, s: string): string => (color ? `${code}${s}${SGR.reset}` : s);
  const phaseColor = phase === 'done' ? SGR.green : phase === 'failed' ? SGR.red : SGR.bold;

  // Preference order: everything; without the label; without the bar; then without the ETA too.
  const tries: [keepLabel: boolean, keepEta: boolean, withBar: boolean][] = [
    [true, true, true],
    [false, true, true],
    [true, true, false],
    [false, true, false],
    [false, false, false],
  ];
  for (const [keepLabel, keepEta, withBar] of tries) {
    const head = `${keepLabel ? `${label} ` : ''}${phase}`;
    const tail = ` ${pct}${count}${keepEta ? etaText : ''}`;
    const room = width - head.length - tail.length - 1;
    if (withBar ? room < 8 : room < -1) continue;
    const barWidth = withBar ? Math.min(40, room) : 0;
    const filled = Math.round((job.progress / 100) * barWidth);
    const bar = withBar ? ` ${paint(SGR.cyan, '█'.repeat(filled))}${paint(SGR.dim, '░'.repeat(barWidth - filled))}` : '';
    const text = `${keepLabel ? `${label} ` : ''}${paint(phaseColor, phase)}${bar}${tail}`;
    return { text, visible: head.length + (withBar ? barWidth + 1 : 0) + tail.length };
  }
  // Narrower than "phase 100% n/m files": phase and percent, cut to the width.
  const plain = `${phase} ${pct}${count}`.slice(0, width);
  return { text: plain, visible: plain.length };
}

/** Plain lines for logs and pipes: one per phase, and a count at most every 2 s while listing or scanning. */
export class PlainProgress implements ProgressView {
  private phase: Phase | undefined;
  private lastLine = 0;
  private readonly start = Date.now();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
  ) {}

  update(job: RefreshJobInfo): void {
    const phase = phaseOf(job);
    const now = Date.now();
    const counting = (phase === 'scanning' || (phase === 'listing' && job.filesDone > 0)) && now - this.lastLine >= 2000;
    if (phase === this.phase && !counting) return;
    const first = phase !== this.phase;
    this.phase = phase;
    this.lastLine = now;
    if (phase === 'listing') this.line(first ? 'listing files' : `listing: ${job.filesDone} files found`);
    else if (phase === 'scanning') this.line(first ? `scanning ${job.filesTotal} files` : `scanning: ${job.filesDone} of ${job.filesTotal} files done`);
    else if (phase === 'committing') this.line('committing the manifest');
  }

  finish(job: RefreshJobInfo): void {
    const took = duration((job.endTime || Date.now()) - (job.startTime || this.start));
    this.line(job.state === 'RefreshCompleted' ? `done in ${took}` : `failed after ${took}`);
  }

  dispose(): void {}

  private line(s: string): void {
    this.out.write(`${this.label}: ${s}\n`);
  }
}
