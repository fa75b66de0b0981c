// `lakemap diff <collection> <from> <to>` and `lakemap summary <collection>`: what changed between two
// kept versions, and a version's counts and schema read from its root alone.
import { UsageError, printJson, type Command } from './command.js';

function positiveInt(v: unknown, what: string): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** How many paths a plain-text diff lists per kind before it says "… and N more". */
const LIST = 20;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'files and segments added, removed and kept between two manifest versions',
  args: ['collection', 'from', 'to'],
  options: {},
  examples: ['diff trips 3 7', 'diff trips 3 7 --json'],
  async run({ args: [collectionName, from, to], io, engine, dbName, json }) {
    const d = await engine.diffManifestVersions({ collectionName: collectionName!, dbName }, positiveInt(from, 'from'), positiveInt(to, 'to'));
    if (json) {
      printJson(io, d);
      return 0;
    }
    const lines = [
      `${dbName}.${collectionName} version ${d.fromVersion} → ${d.toVersion}`,
      `files: ${d.files.added.length} added, ${d.files.removed.length} removed, ${d.files.modified.length} modified, ${d.files.kept} kept`,
      `segments: ${d.segments.added.length} added, ${d.segments.removed.length} removed, ${d.segments.kept} kept`,
    ];
    for (const [sign, paths] of [['+', d.files.added], ['-', d.files.removed], ['~', d.files.modified]] as const) {
      for (const p of paths.slice(0, LIST)) lines.push(`${sign} ${p}`);
      if (paths.length > LIST) lines.push(`${sign} … and ${paths.length - LIST} more (--json lists all)`);
    }
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};

export const summaryCommand: Command = {
  name: 'summary',
  summary: "a manifest version's rows, files, segments and schema, without loading its files",
  args: ['collection'],
  options: { version: { type: 'string', value: 'N', help: 'manifest version (default: current)' } },
  examples: ['summary trips', 'summary trips --version 3 --json'],
  async run({ args: [collectionName], values: o, io, engine, dbName, json }) {
    const version = o.version === undefined ? undefined : positiveInt(o.version, '--version');
    const s = await engine.getManifestSummary({ collectionName: collectionName!, dbName, ...(version ? { version } : {}) });
    if (json) {
      printJson(io, s);
      return 0;
    }
    const lines = [
      `${s.dbName}.${s.collectionName} manifest version ${s.version} (${new Date(s.createdAt).toISOString()})`,
      `format ${s.format}${s.tableVersion ? ` (table version ${s.tableVersion})` : ''}`,
      `rows ${s.totalRows}${s.totalRowsExact ? '' : ' (upper bound)'}${s.physicalRows !== s.totalRows ? ` live of ${s.physicalRows} physical` : ''}, files ${s.files}, segments ${s.segments}`,
      `schema: ${s.schema.fields.map((f) => `${f.name} ${f.type}`).join(', ')}`,
    ];
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
