import type { RefreshJobInfo } from '../types.js';

/** A one-line progress bar for a terminal, redrawn at most every 50 ms. */
export class ProgressBar {
  private last = 0;
  private readonly width = 30;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
  ) {}

  /** Redraws the bar for a job's current progress. */
  update(job: RefreshJobInfo, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 50) return;
    this.last = now;
    const filled = Math.round((job.progress / 100) * this.width);
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    const files = job.filesTotal ? ` ${job.filesDone}/${job.filesTotal} files` : '';
    this.out.write(`\r${this.label} ${bar} ${String(job.progress).padStart(3)}%${files}\x1b[K`);
  }

  /** Draws the final state and ends the line. */
  finish(job: RefreshJobInfo): void {
    this.update(job, true);
    this.out.write(job.state === 'RefreshCompleted' ? ' done\n' : ' failed\n');
  }
}
