import picomatch from 'picomatch';
import { LakemapError } from '../errors.js';
import type { ExternalSpec } from '../scanner.js';
import type { FieldMapping } from '../types.js';

const NAME_RULE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Refuses a collection or database name that breaks Milvus's rule, before it can touch a path. */
export function checkName(kind: 'collection' | 'database', name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || !NAME_RULE.test(name)) {
    throw new LakemapError(
      'INVALID_NAME',
      `invalid ${kind} name ${JSON.stringify(name)}: use letters, digits and _, not starting with a digit, at most 255 characters`,
    );
  }
  return name;
}

/** Parses an external spec given as an object or a JSON string; keeps keys it does not know. */
export function parseSpec(spec: unknown, knownFormats: readonly string[]): ExternalSpec {
  let value = spec;
  if (typeof spec === 'string') {
    try {
      value = JSON.parse(spec);
    } catch (e) {
      throw new LakemapError('INVALID_SPEC', `external spec is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LakemapError('INVALID_SPEC', 'external spec must be a JSON object with a "format" key');
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.format !== 'string' || obj.format === '') {
    throw new LakemapError('INVALID_SPEC', `external spec needs "format": one of ${knownFormats.join(', ')}`);
  }
  if (!knownFormats.includes(obj.format)) {
    throw new LakemapError('UNKNOWN_FORMAT', `unknown format "${obj.format}"; known formats: ${knownFormats.join(', ')}`);
  }
  checkEngineKeys(obj);
  return { ...obj, format: obj.format };
}

/** Validates the spec keys the engine itself reads. */
function checkEngineKeys(spec: Record<string, unknown>): void {
  const max = spec.segment_max_rows;
  if (max !== undefined && !(Number.isSafeInteger(max) && (max as number) > 0)) {
    throw new LakemapError('INVALID_SPEC', `"segment_max_rows" must be a positive integer, got ${JSON.stringify(max)}`);
  }
  const skip = spec.skip_invalid;
  if (skip !== undefined && typeof skip !== 'boolean') {
    throw new LakemapError('INVALID_SPEC', `"skip_invalid" must be true or false, got ${JSON.stringify(skip)}`);
  }
  const files = spec.files;
  if (files !== undefined) {
    const list = typeof files === 'string' ? [files] : files;
    if (!Array.isArray(list) || list.length === 0 || list.some((g) => typeof g !== 'string' || g === '')) {
      throw new LakemapError('INVALID_SPEC', '"files" must be a glob or a non-empty list of globs relative to the source');
    }
    for (const g of list as string[]) checkGlob(g);
  }
  const empty = spec.allow_empty;
  if (empty !== undefined && typeof empty !== 'boolean') {
    throw new LakemapError('INVALID_SPEC', `"allow_empty" must be true or false, got ${JSON.stringify(empty)}`);
  }
  const verify = spec.verify;
  if (verify !== undefined && verify !== 'stat' && verify !== 'footer') {
    throw new LakemapError('INVALID_SPEC', `"verify" must be "stat" (size and mtime, the default) or "footer" (re-read footers of unchanged-looking files), got ${JSON.stringify(verify)}`);
  }
}

/**
 * Refuses glob syntax that picomatch would accept but silently match against nothing or against
 * something else than meant: paths leaving the source, backslashes, negation, unbalanced brackets.
 */
function checkGlob(g: string): void {
  const bad = (why: string): never => {
    throw new LakemapError('INVALID_SPEC', `"files" glob ${JSON.stringify(g)}: ${why}`);
  };
  if (g.startsWith('/') || /^[a-zA-Z]:/.test(g)) bad('must be relative to the source');
  if (g.includes('\\')) bad('use / as the separator (backslashes are not supported)');
  if (g.split('/').includes('..')) bad('must not contain ".." (it would leave the source)');
  if (g.startsWith('!')) bad('negation is not supported; list the globs to include');
  const close: Record<string, string> = { '[': ']', '{': '}', '(': ')' };
  const stack: string[] = [];
  for (const c of g) {
    if (c in close) stack.push(close[c]!);
    else if (c === ']' || c === '}' || c === ')') {
      if (stack.pop() !== c) bad(`unbalanced "${c}"`);
    }
  }
  if (stack.length) bad(`unclosed "${stack.map((c) => ({ ']': '[', '}': '{', ')': '(' })[c]).join('')}"`);
  try {
    picomatch.makeRe(g);
  } catch (e) {
    bad((e as Error).message);
  }
}

/** Validates declared fields: names follow the naming rule, no duplicates, external columns named. */
export function checkFields(fields: unknown): FieldMapping[] {
  if (fields === undefined) return [];
  if (!Array.isArray(fields)) throw new LakemapError('INVALID_ARGUMENT', '"fields" must be a list of { name, externalField }');
  const seen = new Set<string>();
  const columns = new Map<string, string>();
  return fields.map((f: unknown) => {
    const { name, externalField, dim } = (f ?? {}) as Partial<FieldMapping>;
    if (typeof name !== 'string' || !NAME_RULE.test(name) || name.length > 255) {
      throw new LakemapError('INVALID_NAME', `invalid field name ${JSON.stringify(name)}`);
    }
    if (typeof externalField !== 'string' || externalField === '') {
      throw new LakemapError('INVALID_ARGUMENT', `field "${name}" needs an externalField (a column of the source)`);
    }
    if (seen.has(name)) throw new LakemapError('INVALID_ARGUMENT', `field "${name}" is declared twice`);
    seen.add(name);
    const other = columns.get(externalField);
    if (other !== undefined) {
      throw new LakemapError('INVALID_FIELDS', `fields "${other}" and "${name}" both map external column "${externalField}"; map each column to one field`);
    }
    columns.set(externalField, name);
    if (dim !== undefined && (!Number.isSafeInteger(dim) || dim < 1)) throw new LakemapError('INVALID_ARGUMENT', `field "${name}": dim must be a positive integer`);
    return dim === undefined ? { name, externalField } : { name, externalField, dim };
  });
}

/** `segment_max_rows` of a spec, default one million rows. */
export function segmentMaxRows(spec: ExternalSpec): number {
  return (spec.segment_max_rows as number | undefined) ?? 1_000_000;
}

/** Globs of the spec's `files` key, or undefined for the scanner default. */
export function fileGlobs(spec: ExternalSpec): string[] | undefined {
  const files = spec.files;
  if (files === undefined) return undefined;
  return typeof files === 'string' ? [files] : (files as string[]);
}

/**
 * One matcher of relative paths for the spec's globs, with picomatch's semantics: `*` stays within
 * one folder (so `*.parquet` is the top level only), `**` spans folders (`**` + `/*.parquet` is any depth),
 * `?`, `[a-z]` classes and `{a,b}` braces work; a leading `./` is ignored. Hidden names are skipped by
 * the listing before any glob is applied.
 */
export function globMatcher(globs: string[]): (path: string) => boolean {
  for (const g of globs) checkGlob(g);
  return picomatch(globs);
}
