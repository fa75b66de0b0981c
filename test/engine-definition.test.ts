// What createCollection() accepts and refuses in names, specs, `files` globs and field mappings, each
// rule at its edge (src/engine/definition.ts). Written for the mutants of definition.ts that survived
// the rest of the suite (issue 15): every refusal names its code and its reason.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

function engine(): RefreshEngine {
  return new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], workers: 0 });
}

let n = 0;
async function create(e: RefreshEngine, req: Record<string, unknown>): Promise<unknown> {
  return e.createCollection({ collectionName: `c${n++}`, externalSource: tempDir(), externalSpec: { format: 'jsonl' }, ...req } as never);
}

async function refused(p: Promise<unknown>, code: string, message: string | RegExp): Promise<LakemapError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LakemapError);
  expect((err as LakemapError).code).toBe(code);
  if (typeof message === 'string') expect((err as Error).message).toContain(message);
  else expect((err as Error).message).toMatch(message);
  return err as LakemapError;
}

describe('collection and database names', () => {
  it('accepts letters, digits and _ up to 255 characters, refuses the rest', async () => {
    const e = engine();
    await expect(create(e, { collectionName: `_${'a'.repeat(254)}` })).resolves.toBeDefined();
    await expect(create(e, { collectionName: 'A_9', dbName: 'db_1' })).resolves.toBeDefined();
    for (const bad of ['', 'a'.repeat(256), '9a', 'a-b', 'a b', 'é', 7, null]) {
      await refused(create(e, { collectionName: bad }), 'INVALID_NAME', 'invalid collection name');
    }
    await refused(create(e, { dbName: 'x.y' }), 'INVALID_NAME', 'invalid database name "x.y": use letters, digits and _, not starting with a digit, at most 255 characters');
    await e.close();
  });
});

describe('external spec', () => {
  it('takes an object or a JSON string and keeps keys it does not know', async () => {
    const e = engine();
    const info = (await create(e, { collectionName: 'kept', externalSpec: JSON.stringify({ format: 'jsonl', mine: { a: 1 } }) })) as { externalSpec: unknown };
    expect(info.externalSpec).toEqual({ format: 'jsonl', mine: { a: 1 } });
    await e.close();
  });

  it('refuses what is not a spec object with a known format', async () => {
    const e = engine();
    const notJson = await refused(create(e, { externalSpec: '{"format":' }), 'INVALID_SPEC', 'external spec is not valid JSON: ');
    expect(notJson.cause).toBeInstanceOf(SyntaxError);
    for (const spec of [null, 3, 'null', '[1]', [{ format: 'jsonl' }]]) {
      await refused(create(e, { externalSpec: spec }), 'INVALID_SPEC', 'external spec must be a JSON object with a "format" key');
    }
    const known = e.formats().join(', ');
    expect(e.formats().length).toBeGreaterThan(1);
    for (const spec of [{}, { format: '' }, { format: 3 }]) {
      await refused(create(e, { externalSpec: spec }), 'INVALID_SPEC', `external spec needs "format": one of ${known}`);
    }
    await refused(create(e, { externalSpec: { format: 'csv' } }), 'UNKNOWN_FORMAT', `unknown format "csv"; known formats: ${known}`);
    await e.close();
  });

  it('checks the engine keys: segment_max_rows, skip_invalid, allow_empty, verify', async () => {
    const e = engine();
    for (const ok of [{ segment_max_rows: 1 }, { skip_invalid: false }, { allow_empty: true }, { verify: 'stat' }, { verify: 'footer' }]) {
      await expect(create(e, { externalSpec: { format: 'jsonl', ...ok } })).resolves.toBeDefined();
    }
    for (const v of [0, -1, 1.5, '10', 2 ** 53]) {
      await refused(create(e, { externalSpec: { format: 'jsonl', segment_max_rows: v } }), 'INVALID_SPEC', `"segment_max_rows" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    await refused(create(e, { externalSpec: { format: 'jsonl', skip_invalid: 'yes' } }), 'INVALID_SPEC', '"skip_invalid" must be true or false, got "yes"');
    await refused(create(e, { externalSpec: { format: 'jsonl', allow_empty: 1 } }), 'INVALID_SPEC', '"allow_empty" must be true or false, got 1');
    await refused(create(e, { externalSpec: { format: 'jsonl', verify: 'size' } }), 'INVALID_SPEC', '"verify" must be "stat"');
    await e.close();
  });
});

describe('"files" globs', () => {
  it('accepts a glob or a list of globs with balanced classes, braces and groups', async () => {
    const e = engine();
    for (const files of ['*.jsonl', ['a/*.jsonl', 'b/**/*.jsonl'], 'p[0-9]/{x,y}.jsonl', '@(a|b).jsonl', './a/*.jsonl', 'C/x.jsonl']) {
      await expect(create(e, { externalSpec: { format: 'jsonl', files } })).resolves.toBeDefined();
    }
    await e.close();
  });

  it('refuses globs that would match nothing or leave the source, naming the glob and why', async () => {
    const e = engine();
    const cases: [unknown, string][] = [
      [[], '"files" must be a glob or a non-empty list of globs relative to the source'],
      [[''], '"files" must be a glob or a non-empty list'],
      [['*.jsonl', 3], '"files" must be a glob or a non-empty list'],
      [{ a: 1 }, '"files" must be a glob or a non-empty list'],
      ['/abs/*.jsonl', '"files" glob "/abs/*.jsonl": must be relative to the source'],
      ['c:/x/*.jsonl', 'must be relative to the source'],
      ['a\\b.jsonl', 'use / as the separator (backslashes are not supported)'],
      ['../*.jsonl', 'must not contain ".." (it would leave the source)'],
      ['a/../../b.jsonl', 'must not contain ".."'],
      ['!a.jsonl', 'negation is not supported; list the globs to include'],
      ['a].jsonl', 'unbalanced "]"'],
      ['a}.jsonl', 'unbalanced "}"'],
      ['a).jsonl', 'unbalanced ")"'],
      ['[a}.jsonl', 'unbalanced "}"'],
      ['[a.jsonl', 'unclosed "["'],
      ['{a,(b.jsonl', 'unclosed "{("'],
    ];
    for (const [files, why] of cases) await refused(create(e, { externalSpec: { format: 'jsonl', files } }), 'INVALID_SPEC', why);
    // picomatch's own refusals (here its input length limit) are reported the same way
    await refused(create(e, { externalSpec: { format: 'jsonl', files: 'a'.repeat(70_000) } }), 'INVALID_SPEC', 'exceeds maximum allowed length');
    // a name that merely contains two dots is not a parent folder, nor is a colon after the first character a drive
    await expect(create(e, { externalSpec: { format: 'jsonl', files: 'a..b/*.jsonl' } })).resolves.toBeDefined();
    await expect(create(e, { externalSpec: { format: 'jsonl', files: 'x/a:b.jsonl' } })).resolves.toBeDefined();
    await e.close();
  });

  it('a single glob given as a string selects files like a one-item list', async () => {
    const lake = tempDir();
    writeJsonl(path.join(lake, 'top.jsonl'), 2);
    writeJsonl(path.join(lake, 'sub', 'deep.jsonl'), 3);
    const e = engine();
    for (const [name, files, rows] of [['s', 'sub/*.jsonl', 3], ['l', ['*.jsonl'], 2], ['any', '**/*.jsonl', 5]] as const) {
      await e.createCollection({ collectionName: name, externalSource: lake, externalSpec: { format: 'jsonl', files } });
      const { jobId } = await e.refreshExternalCollection({ collectionName: name });
      const info = await e.waitForRefresh(jobId);
      expect(info.state).toBe('RefreshCompleted');
      expect((await e.getManifest({ collectionName: name })).totalRows).toBe(rows);
    }
    await e.close();
  });
});

describe('field mappings', () => {
  it('accepts none or distinct names on distinct columns', async () => {
    const e = engine();
    const info = (await create(e, { fields: [{ name: 'a', externalField: 'id' }, { name: 'b', externalField: 'name' }] })) as { fields: unknown };
    expect(info.fields).toEqual([{ name: 'a', externalField: 'id' }, { name: 'b', externalField: 'name' }]);
    expect(((await create(e, {})) as { fields: unknown }).fields).toEqual([]);
    await e.close();
  });

  it('refuses bad names, missing columns, a name twice and a column twice', async () => {
    const e = engine();
    await refused(create(e, { fields: { name: 'a' } }), 'INVALID_ARGUMENT', '"fields" must be a list of { name, externalField }');
    for (const name of ['9a', 'a-b', 'a'.repeat(256), 3]) {
      await refused(create(e, { fields: [{ name, externalField: 'id' }] }), 'INVALID_NAME', `invalid field name ${JSON.stringify(name)}`);
    }
    await refused(create(e, { fields: [null] }), 'INVALID_NAME', 'invalid field name undefined');
    await expect(create(e, { fields: [{ name: 'a'.repeat(255), externalField: 'id' }] })).resolves.toBeDefined();
    for (const externalField of ['', undefined, 5]) {
      await refused(create(e, { fields: [{ name: 'a', externalField }] }), 'INVALID_ARGUMENT', 'field "a" needs an externalField (a column of the source)');
    }
    await refused(create(e, { fields: [{ name: 'a', externalField: 'id' }, { name: 'a', externalField: 'name' }] }), 'INVALID_ARGUMENT', 'field "a" is declared twice');
    await refused(
      create(e, { fields: [{ name: 'a', externalField: 'id' }, { name: 'b', externalField: 'id' }] }),
      'INVALID_FIELDS',
      'fields "a" and "b" both map external column "id"; map each column to one field',
    );
    await e.close();
  });
});
