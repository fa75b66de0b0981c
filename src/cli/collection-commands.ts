// Commands about collections themselves: create, describe, drop, collections.
import type { CollectionInfo } from '../types.js';
import { UsageError, absoluteSource, parseField, printJson, specFrom, type Command } from './command.js';

export const createCommand: Command = {
  name: 'create',
  summary: 'create a collection over an external source (nothing is scanned yet)',
  args: ['collection'],
  options: {
    source: { type: 'string', value: 'S', help: 'external source: a directory, file://…, or volume://name/path' },
    format: { type: 'string', value: 'F', help: 'parquet | vortex | lance-table | iceberg-table | a registered format' },
    spec: { type: 'string', value: 'JSON', help: 'the external spec as JSON (with --format: the other keys)' },
    field: { type: 'string', multiple: true, value: 'name=column', help: 'map a collection field to an external column' },
  },
  examples: ['create trips --source ./lake/trips --format parquet --field pk=trip_id --field vec=emb'],
  async run({ args: [collectionName], values: o, io, engine, dbName, json }) {
    if (typeof o.source !== 'string') throw new UsageError('create needs --source');
    const externalSpec = specFrom(o.format, o.spec);
    if (!externalSpec) throw new UsageError('create needs --format or --spec');
    const fields = ((o.field as string[] | undefined) ?? []).map(parseField);
    const info = await engine.createCollection({ collectionName: collectionName!, dbName, externalSource: absoluteSource(o.source), externalSpec, fields });
    if (json) printJson(io, info);
    else io.stdout.write(`created ${dbName}.${collectionName} (${info.externalSpec.format} at ${info.externalSource})\n`);
    return 0;
  },
};

export const describeCommand: Command = {
  name: 'describe',
  summary: "a collection's definition: source, spec, fields, current manifest version",
  args: ['collection'],
  options: {},
  examples: ['describe trips', 'describe trips --json'],
  async run({ args: [collectionName], io, engine, dbName, json }) {
    const info = await engine.describeCollection({ collectionName: collectionName!, dbName });
    if (json) printJson(io, info);
    else io.stdout.write(describeText(info));
    return 0;
  },
};

function describeText(c: CollectionInfo): string {
  const { format, ...options } = c.externalSpec;
  const lines = [
    `${c.dbName}.${c.collectionName}`,
    `  source    ${c.externalSource}`,
    `  format    ${format}${Object.keys(options).length ? ` ${JSON.stringify(options)}` : ''}`,
    `  fields    ${c.fields.length ? c.fields.map((f) => `${f.name}=${f.externalField}`).join(', ') : '(all columns)'}`,
    `  created   ${new Date(c.createdAt).toISOString()}`,
    `  manifest  ${c.manifestVersion ? `version ${c.manifestVersion}` : 'none yet (never refreshed)'}`,
  ];
  return lines.join('\n') + '\n';
}

export const dropCommand: Command = {
  name: 'drop',
  summary: 'delete a collection and its manifests (never the external data)',
  args: ['collection'],
  options: {},
  description: 'Deletes a collection and all its manifest versions. The external data is never touched. Refused while the collection is being refreshed.',
  examples: ['drop trips'],
  async run({ args: [collectionName], io, engine, dbName, json }) {
    await engine.dropCollection({ collectionName: collectionName!, dbName });
    if (json) printJson(io, { dropped: true, dbName, collectionName });
    else io.stdout.write(`dropped ${dbName}.${collectionName} (external data untouched)\n`);
    return 0;
  },
};

export const collectionsCommand: Command = {
  name: 'collections',
  summary: 'list the collections of a database',
  args: [],
  options: {},
  examples: ['collections', 'collections --db lake --json'],
  async run({ io, engine, dbName, json }) {
    const names = await engine.listCollections({ dbName });
    if (json) printJson(io, names);
    else io.stdout.write(names.map((n) => `${n}\n`).join(''));
    return 0;
  },
};
