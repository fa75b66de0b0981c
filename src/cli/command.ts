// What a CLI command is, and the helpers commands share. Adding a command is one module exporting a
// `Command` and one line in the table of `main.ts`.
import * as path from 'node:path';
import type { RefreshEngine } from '../engine/engine.js';
import type { ExternalSpec } from '../scanner.js';
import type { FieldMapping } from '../types.js';

/** Output streams of one CLI run (injectable for tests). */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Environment consulted for `NO_COLOR` and `CI` (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** One option of a command, as `node:util` `parseArgs` takes it, plus its help line. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder of the value in help, e.g. `DIR`. */
  value?: string;
  help: string;
}

/** Parsed option values of a command. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a command's `run` receives. */
export interface CommandContext {
  /** Positional arguments after the command name, as many as the command's `args`. */
  args: string[];
  /** Option values (global and the command's own). */
  values: OptionValues;
  io: CliIO;
  /** The engine over `--root`. */
  engine: RefreshEngine;
  /** `--db`. */
  dbName: string;
  /** `--json`: machine output on stdout, errors as `{ "error": … }`. */
  json: boolean;
}

/** A CLI command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional argument names, e.g. `['collection']`; all required. */
  args: string[];
  /** Optional positional arguments after the required ones. */
  optionalArgs?: string[];
  /** The command's own options (global ones are added). */
  options: Record<string, OptionSpec>;
  /** A paragraph under the usage line. */
  description?: string;
  /** Example invocations, one a line, without the leading `lakemap `. */
  examples: string[];
  /** Runs the command; resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  root: { type: 'string', value: 'DIR', help: 'metadata directory (default .lakemap)' },
  db: { type: 'string', value: 'NAME', help: 'database (default "default")' },
  json: { type: 'boolean', help: 'JSON on stdout, errors too: {"error":{code,message,path}}' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** A mistake in the command line: exit code 2 and the command's usage. */
export class UsageError extends Error {}

/** Writes `value` as one JSON document on stdout. */
export function printJson(io: CliIO, value: unknown, pretty = false): void {
  io.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
}

/** An external spec from `--format` and/or `--spec`. */
export function specFrom(format: unknown, spec: unknown): ExternalSpec | string | undefined {
  const f = typeof format === 'string' ? format : undefined;
  const s = typeof spec === 'string' ? spec : undefined;
  if (f !== undefined && s !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      throw new UsageError('--spec is not valid JSON');
    }
    return { ...(parsed as object), format: f };
  }
  if (s !== undefined) return s;
  if (f !== undefined) return { format: f };
  return undefined;
}

/** `name=column` of `--field`. */
export function parseField(s: string): FieldMapping {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) throw new UsageError(`--field ${s}: expected name=column`);
  return { name: s.slice(0, eq), externalField: s.slice(eq + 1) };
}

/** A shell user types relative paths; the engine takes absolute ones. */
export function absoluteSource(s: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : path.resolve(s);
}

/** The help text of a command: usage, description, options, examples. */
export function commandHelp(c: Command): string {
  const opts = { ...c.options, ...GLOBAL_OPTIONS };
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' ...' : ''}`;
    return [flag, o.help] as const;
  });
  const w = Math.max(...rows.map(([f]) => f.length));
  return [
    `usage: lakemap ${c.name}${c.args.map((a) => ` <${a}>`).join('')}${(c.optionalArgs ?? []).map((a) => ` [${a}]`).join('')} [options]`,
    '',
    wrap(c.description ?? c.summary, 78),
    '',
    'options:',
    ...rows.map(([f, h]) => `  ${f.padEnd(w)}  ${h}`),
    '',
    c.examples.length > 1 ? 'examples:' : 'example:',
    ...c.examples.map((e) => `  lakemap ${e}`),
    '',
  ].join('\n');
}

/** `text` broken at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
