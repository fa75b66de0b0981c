// `lakemap watch <collection>`: keeps a collection current until Ctrl-C, one line per refresh.
import { parseArgs } from 'node:util';
import { RefreshEngine } from '../engine/engine.js';
import type { WatchEvent } from '../watch/watch.js';
import type { WatchOptions } from '../watch/types.js';
import type { RefreshJobInfo } from '../types.js';
import type { CliIO } from './main.js';

const USAGE = `usage: lakemap watch <collection> [--debounce MS] [--max-wait MS] [--poll-interval MS] [--json] [--root DIR] [--db NAME]
  Refreshes the collection whenever its source changes, until Ctrl-C; prints one line per refresh
  (a JSON object per line with --json).`;

/** Runs `lakemap watch`; resolves to the exit code once `stop` aborts (default: SIGINT or SIGTERM). */
export async function watchCommand(argv: string[], io: CliIO, stop?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string', default: '.lakemap' },
        db: { type: 'string', default: 'default' },
        debounce: { type: 'string' },
        'max-wait': { type: 'string' },
        'poll-interval': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usage(io, positionals.length === 0 ? 'watch needs a collection name' : `unexpected argument ${positionals[1]}`);
  const options: WatchOptions = {};
  for (const [flag, key] of [['debounce', 'debounceMs'], ['max-wait', 'maxWaitMs'], ['poll-interval', 'pollIntervalMs']] as const) {
    const v = o[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) return usage(io, `--${flag} must be a whole number of milliseconds`);
    options[key] = n;
  }
  const collectionName = positionals[0]!;
  const dbName = o.db;
  const engine = new RefreshEngine({ root: o.root });
  const watch = engine.watch({ collectionName, dbName }, options);
  await watch.ready; // a LakemapError (unknown collection …) is reported by runCli
  const st = watch.status();
  io.stderr.write(`watching ${dbName}.${collectionName} at ${st.watching} (${st.mechanism}: ${st.reason}); Ctrl-C to stop\n`);

  let printing = Promise.resolve();
  watch.on('refreshend', (e: WatchEvent) => {
    const info = e.job!;
    printing = printing.then(async () => {
      const rows = info.state === 'RefreshCompleted' ? (await engine.getManifest({ collectionName, dbName, version: info.version }).catch(() => undefined))?.totalRows : undefined;
      io.stdout.write(o.json ? `${JSON.stringify({ time: new Date(info.endTime).toISOString(), ...info, ...(rows !== undefined ? { totalRows: rows } : {}) })}\n` : line(info, rows));
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
  await watch.close();
  await printing;
  io.stderr.write(`stopped watching ${dbName}.${collectionName} after ${watch.status().refreshes} refresh(es)\n`);
  return 0;
}

function line(info: RefreshJobInfo, rows: number | undefined): string {
  const at = new Date(info.endTime || Date.now()).toISOString();
  const took = `${info.endTime - info.startTime} ms`;
  const head = `${at} ${info.dbName}.${info.collectionName}`;
  if (info.errorCode === 'REFRESH_IN_PROGRESS') return `${head} another engine or process is refreshing it; will try again\n`;
  if (info.state === 'RefreshFailed') return `${head} refresh failed (${info.errorCode}): ${info.reason}; previous version kept, will retry\n`;
  const c = info.changes?.files;
  const files = c ? `${c.added} added, ${c.removed} removed, ${c.modified} modified, ${c.unchanged} unchanged files` : '';
  const total = rows !== undefined ? `, ${rows.toLocaleString('en-US')} rows` : '';
  return info.committed ? `${head} committed version ${info.version}: ${files}${total} (${took})\n` : `${head} no change, version ${info.version} is current${total} (${took})\n`;
}

function usage(io: CliIO, message: string): number {
  io.stderr.write(`lakemap: ${message}\n${USAGE}\n`);
  return 2;
}
