// Commands that read committed manifests: show, versions.
import type { Manifest } from '../types.js';
import { UsageError, printJson, type Command } from './command.js';
import { writeManifestJson } from '../manifest/stream.js';

export const showCommand: Command = {
  name: 'show',
  summary: 'a manifest: the current version, or an older one still kept',
  args: ['collection'],
  options: { version: { type: 'string', value: 'N', help: 'manifest version to show (default: current)' } },
  examples: ['show trips', 'show trips --version 3 --json'],
  async run({ args: [collectionName], values: o, io, engine, dbName, json }) {
    const version = o.version === undefined ? undefined : Number(o.version);
    if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw new UsageError('--version must be a positive integer');
    const req = { collectionName: collectionName!, dbName, ...(version ? { version } : {}) };
    if (json) {
      // Streamed one chunk at a time: memory stays bounded whatever the number of files.
      await writeManifestJson(await engine.streamManifest(req), (text) => writeWaiting(io.stdout, text));
      await writeWaiting(io.stdout, '\n');
    } else io.stdout.write(summary(await engine.getManifest(req)));
    return 0;
  },
};

function summary(m: Manifest): string {
  const lines = [
    `${m.dbName}.${m.collectionName} manifest version ${m.version} (${new Date(m.createdAt).toISOString()})`,
    `format ${m.format}${m.tableVersion ? ` (table version ${m.tableVersion})` : ''}, source ${m.externalSource}`,
    `rows ${m.totalRows}${m.totalRowsExact ? '' : ' (upper bound)'}${m.physicalRows !== m.totalRows ? ` live of ${m.physicalRows} physical` : ''}, files ${m.files.length}, segments ${m.segments.length}`,
    `schema: ${m.schema.fields.map((f) => `${f.name} ${f.type}`).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}

export const versionsCommand: Command = {
  name: 'versions',
  summary: 'manifest versions kept on disk for a collection',
  args: ['collection'],
  options: {},
  examples: ['versions trips', 'versions trips --json'],
  async run({ args: [collectionName], io, engine, dbName, json }) {
    const ref = { collectionName: collectionName!, dbName };
    const versions = await engine.listManifestVersions(ref);
    const current = (await engine.describeCollection(ref)).manifestVersion;
    if (json) printJson(io, { versions, current });
    else io.stdout.write(versions.map((v) => `${v}${v === current ? '  (current)' : ''}\n`).join('') || 'no manifest yet (never refreshed)\n');
    return 0;
  },
};

/** Writes `text`, waiting for `drain` when the stream's buffer is full (a slow pipe must not grow memory). */
function writeWaiting(out: NodeJS.WritableStream, text: string): Promise<void> | void {
  if (out.write(text)) return;
  return new Promise((resolve) => out.once('drain', () => resolve()));
}
