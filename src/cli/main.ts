// The `lakemap` command: the same engine as the library, from a shell.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { RefreshEngine } from '../engine/engine.js';
import { LakemapError } from '../errors.js';
import { collectionsCommand, createCommand, describeCommand, dropCommand } from './collection-commands.js';
import { GLOBAL_OPTIONS, UsageError, commandHelp, printJson, type CliIO, type Command, type OptionValues } from './command.js';
import { showCommand, versionsCommand } from './manifest-commands.js';
import { refreshCommand } from './refresh-command.js';
import { jobCommand, jobsCommand, repairCommand } from './jobs-commands.js';
import { readCommand } from './read-command.js';
import { watchCommand } from './watch-command.js';
import { diffCommand, summaryCommand } from './diff-commands.js';

export type { CliIO } from './command.js';

/** Every command, in the order `lakemap --help` lists them. Adding a command is one line here. */
const COMMANDS: readonly Command[] = [
  createCommand,
  refreshCommand,
  watchCommand,
  showCommand,
  versionsCommand,
  summaryCommand,
  diffCommand,
  describeCommand,
  collectionsCommand,
  dropCommand,
  jobsCommand,
  jobCommand,
  repairCommand,
  readCommand,
];

/** Codes that mean the command line asked for something malformed: exit 2, like a usage error. */
const USAGE_CODES = new Set(['INVALID_NAME', 'INVALID_SPEC', 'UNKNOWN_FORMAT', 'INVALID_SOURCE', 'INVALID_ARGUMENT']);

/** Runs the CLI with `argv` (without node and script); resolves to the exit code: 0 ok, 1 failed, 2 usage. */
export async function runCli(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const json = argv.includes('--json');
  let command: Command | undefined;
  try {
    if (argv[0] === '--version' || argv[0] === '-V') {
      io.stdout.write(json ? `${JSON.stringify({ version: packageVersion() })}\n` : `${packageVersion()}\n`);
      return 0;
    }
    const at = commandIndex(argv);
    const name = at < 0 ? undefined : argv[at]!;
    if (name === undefined) {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.stdout.write(generalHelp());
        return 0;
      }
      throw new UsageError('no command given');
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await runCommand(command, argv.slice(at + 1), argv.slice(0, at), io);
  } catch (e) {
    return report(e, io, json, command);
  }
}

async function runCommand(command: Command, rest: string[], before: string[], io: CliIO): Promise<number> {
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...before, ...rest],
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }])),
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const values = parsed.values as OptionValues;
  if (values.help) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  const args = parsed.positionals;
  if (args.length < command.args.length) throw new UsageError(`${command.name} needs ${command.args.map((a) => `<${a}>`).join(' ')}`);
  const most = command.args.length + (command.optionalArgs?.length ?? 0);
  if (args.length > most) throw new UsageError(`unexpected argument "${args[most]}"`);
  const engine = new RefreshEngine({ root: typeof values.root === 'string' ? values.root : '.lakemap' });
  return command.run({ args, values, io, engine, dbName: typeof values.db === 'string' ? values.db : 'default', json: values.json === true });
}

/** Index of the first argument that is neither an option nor the value of a global option taking one; -1 if none. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) return i;
    const key = a.replace(/^--?/, '');
    if (!a.includes('=') && GLOBAL_OPTIONS[key]?.type === 'string') i++;
  }
  return -1;
}

/** Prints an error (JSON on stdout with `--json`, prose on stderr otherwise) and returns its exit code. */
function report(e: unknown, io: CliIO, json: boolean, command: Command | undefined): number {
  let code: string;
  let message: string;
  let path: string | null = null;
  let exit: number;
  if (e instanceof UsageError) {
    code = 'USAGE';
    message = e.message;
    exit = 2;
  } else if (LakemapError.is(e)) {
    code = e.code;
    message = e.message;
    path = e.path ?? null;
    exit = USAGE_CODES.has(e.code) ? 2 : 1;
  } else {
    code = 'INTERNAL';
    message = (e as Error)?.stack ?? String(e);
    exit = 1;
  }
  if (json) printJson(io, { error: { code, message, path } });
  else if (e instanceof UsageError) {
    const hint = command ? `run "lakemap ${command.name} --help" for its options` : 'run "lakemap --help" for the commands';
    io.stderr.write(`lakemap: ${message}\n${command ? usageLine(command) : ''}${hint}\n`);
  } else io.stderr.write(`lakemap: ${code === 'INTERNAL' ? '' : `${code}: `}${message}\n`);
  return exit;
}

function usageLine(c: Command): string {
  return `usage: lakemap ${c.name}${c.args.map((a) => ` <${a}>`).join('')}${(c.optionalArgs ?? []).map((a) => ` [${a}]`).join('')} [options]\n`;
}

function generalHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `lakemap ${packageVersion()}: map external lake data into versioned collection manifests`,
    '',
    'usage: lakemap <command> [arguments] [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'common options: --root DIR (default .lakemap)  --db NAME (default "default")  --json  --help',
    'lakemap --version prints the version; lakemap <command> --help shows a command\'s options and an example.',
    '',
  ].join('\n');
}

let version: string | undefined;

/** The version in lakemap's package.json (found upwards from this module, in sources and in dist alike). */
function packageVersion(): string {
  if (version) return version;
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 5; i++) {
    const file = new URL('package.json', dir);
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lakemap' && pkg.version) return (version = pkg.version);
    }
    dir = new URL('..', dir);
  }
  return (version = 'unknown');
}
