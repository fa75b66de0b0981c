/**
 * Finds and reads the current table metadata file of an Iceberg table directory:
 * `metadata_location` from the spec, else `metadata/version-hint.text` (a number `N` for `vN.metadata.json`,
 * or a file-name stem), else the highest version in `metadata/`. Gzip-compressed metadata
 * (`*.gz.metadata.json`, `*.metadata.json.gz`) is read too.
 */
import * as zlib from 'node:zlib';
import { corruptFile, LakemapError, type SourceStorage } from '../../src/scanner.js';
import { parseLosslessJson } from './lossless-json.js';
import { parseTableMetadata } from './table-metadata.js';
import type { TableMetadata } from './types.js';

const MAX_METADATA_BYTES = 64 * 1024 * 1024;
const METADATA_NAME = /\.metadata\.json(\.gz)?$/;

/** The metadata file in use and what it says. */
export interface LoadedMetadata {
  /** Path relative to the source root. */
  path: string;
  metadata: TableMetadata;
  /** How the file was found (`spec`, `version-hint`, `listing`). */
  foundBy: 'spec' | 'version-hint' | 'listing';
  warnings: string[];
}

/** Reads and parses one metadata file (gunzipping when needed). */
export async function readMetadataFile(storage: SourceStorage, path: string): Promise<TableMetadata> {
  let bytes = await storage.readFile(path, MAX_METADATA_BYTES);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: MAX_METADATA_BYTES });
    } catch (e) {
      throw corruptFile(path, `cannot gunzip table metadata (${(e as Error).message})`, e);
    }
  }
  let raw: unknown;
  try {
    raw = parseLosslessJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw corruptFile(path, `table metadata is not valid JSON (${(e as Error).message})`, e);
  }
  return parseTableMetadata(raw, path);
}

/** Version number encoded in a metadata file name (`v12.metadata.json`, `00012-<uuid>.metadata.json`). */
export function metadataVersion(name: string): number | undefined {
  const m = /^v(\d+)(?:\.gz)?\.metadata\.json(?:\.gz)?$/.exec(name) ?? /^(\d+)-[^/]*\.metadata\.json(?:\.gz)?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

async function exists(storage: SourceStorage, path: string): Promise<boolean> {
  return (await storage.stat(path)) !== undefined;
}

/** Candidate file names for a version-hint's content. */
function hintCandidates(hint: string): string[] {
  if (METADATA_NAME.test(hint)) return [hint];
  const stem = /^\d+$/.test(hint) ? `v${Number(hint)}` : hint;
  return [`${stem}.metadata.json`, `${stem}.gz.metadata.json`, `${stem}.metadata.json.gz`];
}

/** Locates the metadata file to use and reads it. */
export async function loadCurrentMetadata(storage: SourceStorage, metadataLocation: string | undefined): Promise<LoadedMetadata> {
  const warnings: string[] = [];
  if (metadataLocation !== undefined) {
    // As given (relative to the table directory), or by file name under metadata/ when given as written.
    const base = metadataLocation.slice(metadataLocation.lastIndexOf('/') + 1);
    for (const p of [metadataLocation.replace(/^\.?\/+/, ''), `metadata/${base}`]) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(p) && (await exists(storage, p))) {
        return { path: p, metadata: await readMetadataFile(storage, p), foundBy: 'spec', warnings };
      }
    }
    throw new LakemapError('NOT_FOUND', `metadata_location ${metadataLocation} not found under ${storage.root}`, { path: metadataLocation });
  }

  const hintStat = await storage.stat('metadata/version-hint.text');
  if (hintStat) {
    const hint = new TextDecoder().decode(await storage.readFile('metadata/version-hint.text', 4096)).trim();
    for (const name of hintCandidates(hint)) {
      const p = `metadata/${name}`;
      if (!name.includes('/') && (await exists(storage, p))) {
        return { path: p, metadata: await readMetadataFile(storage, p), foundBy: 'version-hint', warnings };
      }
    }
    warnings.push(`metadata/version-hint.text says ${JSON.stringify(hint.slice(0, 80))} but no such metadata file exists; using the highest version in metadata/`);
  }

  const files = (await storage.list('metadata')).filter((f) => METADATA_NAME.test(f.path) && !f.path.slice('metadata/'.length).includes('/'));
  if (files.length === 0) {
    throw new LakemapError('NOT_FOUND', `no table metadata (metadata/*.metadata.json) under ${storage.root}; is this an Iceberg table directory?`, { path: 'metadata' });
  }
  const numbered = files
    .map((f) => ({ path: f.path, version: metadataVersion(f.path.slice('metadata/'.length)) }))
    .filter((f): f is { path: string; version: number } => f.version !== undefined)
    .sort((a, b) => a.version - b.version || (a.path < b.path ? -1 : 1));
  // Unnumbered names (e.g. `vfinal.metadata.json`) cannot be ordered by name: compare them with the
  // highest-numbered file by `last-updated-ms`, which every writer sets on commit.
  const candidates = [...files.filter((f) => metadataVersion(f.path.slice('metadata/'.length)) === undefined).map((f) => f.path)];
  if (numbered.length > 0) candidates.push(numbered[numbered.length - 1]!.path);
  let best: { path: string; metadata: TableMetadata } | undefined;
  for (const p of candidates) {
    const metadata = await readMetadataFile(storage, p);
    if (!best || metadata.lastUpdatedMs > best.metadata.lastUpdatedMs) best = { path: p, metadata };
  }
  if (candidates.length > 1) warnings.push(`no version hint; chose ${best!.path} as the most recently updated of ${candidates.join(', ')}`);
  return { path: best!.path, metadata: best!.metadata, foundBy: 'listing', warnings };
}
