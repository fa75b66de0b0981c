// The `lakemap` command: the same engine as the library, from a shell.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RefreshEngine } from '../engine/engine.js';
import { LakemapError } from '../errors.js';
import type { FieldMapping, Manifest, RefreshJobInfo } from '../types.js';
import type { ExternalSpec } from '../scanner.js';
import { ProgressBar } from './progress.js';
import { READ_USAGE, runReadCommand } from './read-command.js';

const USAGE = `usage:
  lakemap create <collection> --source S (--format F | --spec JSON) [--field name=column]...
  lakemap refresh <collection> [--source S] [--format F] [--spec JSON] [--json]
  lakemap show <collection> [--version N] [--json]
  lakemap collections
  ${READ_USAGE}
common options: --root DIR (default .lakemap)  --db NAME (default "default")`;

/** Output streams and exit code of one CLI run (injectable for tests). */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw the progress bar even when stderr is not a terminal. */
  progress?: boolean;
}

class UsageError extends Error {}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code: 0 ok, 1 failed, 2 usage. */
export async function runCli(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`lakemap: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (LakemapError.is(e)) {
      const usage = ['INVALID_NAME', 'INVALID_SPEC', 'UNKNOWN_FORMAT', 'INVALID_SOURCE', 'INVALID_ARGUMENT'].includes(e.code);
      io.stderr.write(`lakemap: ${e.code}: ${e.message}\n`);
      return usage ? 2 : 1;
    }
    io.stderr.write(`lakemap: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  if (argv[0] === 'read') return runReadCommand(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string', default: '.lakemap' },
        db: { type: 'string', default: 'default' },
        source: { type: 'string' },
        format: { type: 'string' },
        spec: { type: 'string' },
        field: { type: 'string', multiple: true },
        version: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  const [command, name, ...extra] = positionals;
  if (o.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!command) throw new UsageError('no command given');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  const engine = new RefreshEngine({ root: o.root });
  const dbName = o.db;
  const needName = (): string => {
    if (!name) throw new UsageError(`${command} needs a collection name`);
    return name;
  };
  switch (command) {
    case 'create': {
      const collectionName = needName();
      if (!o.source) throw new UsageError('create needs --source');
      const externalSpec = specFrom(o.format, o.spec);
      if (!externalSpec) throw new UsageError('create needs --format or --spec');
      const fields = (o.field ?? []).map(parseField);
      const info = await engine.createCollection({ collectionName, dbName, externalSource: absoluteSource(o.source), externalSpec, fields });
      io.stdout.write(o.json ? `${JSON.stringify(info)}\n` : `created ${dbName}.${collectionName} (${info.externalSpec.format} at ${info.externalSource})\n`);
      return 0;
    }
    case 'refresh':
      return refresh(engine, io, needName(), dbName, o);
    case 'show': {
      const collectionName = needName();
      const version = o.version === undefined ? undefined : Number(o.version);
      if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw new UsageError('--version must be a positive integer');
      const m = await engine.getManifest({ collectionName, dbName, ...(version ? { version } : {}) });
      io.stdout.write(o.json ? `${JSON.stringify(m, null, 2)}\n` : summary(m));
      return 0;
    }
    case 'collections': {
      const names = await engine.listCollections({ dbName });
      io.stdout.write(o.json ? `${JSON.stringify(names)}\n` : names.map((n) => `${n}\n`).join(''));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

async function refresh(
  engine: RefreshEngine,
  io: CliIO,
  collectionName: string,
  dbName: string,
  o: { source?: string; format?: string; spec?: string; json: boolean },
): Promise<number> {
  const externalSpec = specFrom(o.format, o.spec);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  const bar = io.stderr.isTTY || io.progress ? new ProgressBar(io.stderr, `${dbName}.${collectionName}`) : undefined;
  const stop = bar ? engine.on('progress', (e) => bar.update(e.job)) : undefined;
  try {
    const { jobId } = await engine.refreshExternalCollection({
      collectionName,
      dbName,
      ...(o.source ? { externalSource: absoluteSource(o.source) } : {}),
      ...(externalSpec ? { externalSpec } : {}),
      signal: ac.signal,
    });
    const info = await engine.waitForRefresh(jobId);
    bar?.finish(info);
    if (o.json) io.stdout.write(`${JSON.stringify(info)}\n`);
    else if (info.state === 'RefreshCompleted') io.stdout.write(refreshSummary(info));
    if (info.state === 'RefreshFailed') {
      io.stderr.write(`lakemap: refresh failed (${info.errorCode}): ${info.reason}\n`);
      return 1;
    }
    return 0;
  } finally {
    stop?.();
    process.off('SIGINT', onSignal);
  }
}

function specFrom(format: string | undefined, spec: string | undefined): ExternalSpec | string | undefined {
  if (format !== undefined && spec !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(spec);
    } catch {
      throw new UsageError('--spec is not valid JSON');
    }
    return { ...(parsed as object), format };
  }
  if (spec !== undefined) return spec;
  if (format !== undefined) return { format };
  return undefined;
}

function parseField(s: string): FieldMapping {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) throw new UsageError(`--field ${s}: expected name=column`);
  return { name: s.slice(0, eq), externalField: s.slice(eq + 1) };
}

/** A shell user types relative paths; the engine takes absolute ones. */
function absoluteSource(s: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : path.resolve(s);
}

function refreshSummary(info: RefreshJobInfo): string {
  const c = info.changes!;
  const head = info.committed ? `committed manifest version ${info.version}` : `no change: manifest version ${info.version} is current`;
  return (
    `${head} in ${info.endTime - info.startTime} ms\n` +
    `files: ${c.files.added} added, ${c.files.removed} removed, ${c.files.modified} modified, ${c.files.unchanged} unchanged\n` +
    `segments: ${c.segments.added} added, ${c.segments.removed} removed, ${c.segments.kept} kept\n` +
    (info.skipped.length ? `skipped ${info.skipped.length} invalid file(s): ${info.skipped.map((s) => s.path).join(', ')}\n` : '') +
    (info.warnings.length ? `warnings:\n${info.warnings.map((w) => `  ${w}`).join('\n')}\n` : '')
  );
}

function summary(m: Manifest): string {
  const lines = [
    `${m.dbName}.${m.collectionName} manifest version ${m.version} (${new Date(m.createdAt).toISOString()})`,
    `format ${m.format}${m.tableVersion ? ` (table version ${m.tableVersion})` : ''}, source ${m.externalSource}`,
    `rows ${m.totalRows}${m.totalRowsExact ? '' : ' (upper bound)'}${m.physicalRows !== m.totalRows ? ` live of ${m.physicalRows} physical` : ''}, files ${m.files.length}, segments ${m.segments.length}`,
    `schema: ${m.schema.fields.map((f) => `${f.name} ${f.type}`).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}
