// `lakemap watch <collection>`: keeps a collection current until Ctrl-C, one line per refresh.
import type { WatchEvent } from '../watch/watch.js';
import type { WatchOptions } from '../watch/types.js';
import type { RefreshJobInfo } from '../types.js';
import { UsageError, type Command, type CommandContext } from './command.js';

export const watchCommand: Command = {
  name: 'watch',
  summary: 'refresh the collection whenever its source changes, until Ctrl-C',
  args: ['collection'],
  options: {
    debounce: { type: 'string', value: 'MS', help: 'quiet time after the last change before a refresh (default 1000)' },
    'max-wait': { type: 'string', value: 'MS', help: 'longest a change waits while changes keep coming (default 10000)' },
    'poll-interval': { type: 'string', value: 'MS', help: 'shortest time between two polls when polling (default 2000)' },
  },
  description:
    'Watches the source (native events on local disks; polling on FUSE and network mounts and object stores) ' +
    'and refreshes after changes, one refresh at a time. Prints one line per refresh (a JSON object per line ' +
    'with --json); a failed refresh keeps the previous version and is retried. Ctrl-C stops cleanly (exit 0).',
  examples: ['watch trips', 'watch trips --debounce 500 --json'],
  run: (ctx) => watchUntil(ctx),
};

/** Runs `lakemap watch` until `stop` aborts (default: SIGINT or SIGTERM); resolves to the exit code. */
export async function watchUntil({ args: [collectionName], values: o, io, engine, dbName, json }: CommandContext, stop?: AbortSignal): Promise<number> {
  const options: WatchOptions = {};
  for (const [flag, key] of [['debounce', 'debounceMs'], ['max-wait', 'maxWaitMs'], ['poll-interval', 'pollIntervalMs']] as const) {
    const v = o[flag];
    if (typeof v !== 'string') continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${flag} must be a whole number of milliseconds`);
    options[key] = n;
  }
  const watch = engine.watch({ collectionName: collectionName!, dbName }, options);
  await watch.ready; // a LakemapError (unknown collection …) is reported by runCli
  const st = watch.status();
  io.stderr.write(`watching ${dbName}.${collectionName} at ${st.watching} (${st.mechanism}: ${st.reason}); Ctrl-C to stop\n`);

  let printing = Promise.resolve();
  // Set at Ctrl-C: closing the watch cancels a refresh in flight, which is then no failure to retry.
  let stopping = false;
  watch.on('refreshend', (e: WatchEvent) => {
    const info = e.job!;
    const stopped = stopping && info.errorCode === 'CANCELLED';
    printing = printing.then(async () => {
      const rows =
        info.state === 'RefreshCompleted'
          ? (await engine.getManifest({ collectionName: collectionName!, dbName, version: info.version }).catch(() => undefined))?.totalRows
          : undefined;
      io.stdout.write(json ? `${JSON.stringify({ time: new Date(info.endTime || Date.now()).toISOString(), ...info, ...(rows !== undefined ? { totalRows: rows } : {}) })}\n` : line(info, rows, stopped));
    });
  });

  await new Promise<void>((resolve) => {
    if (stop) {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  stopping = true;
  await watch.close();
  await printing;
  io.stderr.write(`stopped watching ${dbName}.${collectionName} after ${watch.status().refreshes} refresh(es)\n`);
  return 0;
}

function line(info: RefreshJobInfo, rows: number | undefined, stopped = false): string {
  const at = new Date(info.endTime || Date.now()).toISOString();
  const took = `${info.endTime - info.startTime} ms`;
  const head = `${at} ${info.dbName}.${info.collectionName}`;
  if (stopped) return `${head} refresh cancelled: stopping; the current version stays\n`;
  if (info.errorCode === 'REFRESH_IN_PROGRESS') return `${head} another engine or process is refreshing it; will try again\n`;
  if (info.state === 'RefreshFailed') return `${head} refresh failed (${info.errorCode}): ${info.reason}; previous version kept, will retry\n`;
  const c = info.changes?.files;
  const files = c ? `${c.added} added, ${c.removed} removed, ${c.modified} modified, ${c.unchanged} unchanged files` : '';
  const total = rows !== undefined ? `, ${rows.toLocaleString('en-US')} rows` : '';
  return info.committed ? `${head} committed version ${info.version}: ${files}${total} (${took})\n` : `${head} no change, version ${info.version} is current${total} (${took})\n`;
}
