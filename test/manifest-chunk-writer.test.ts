// ChunkWriter: in a folder it creates it writes every object without checking names; in an existing
// folder it skips objects already there with this content and replaces one found with other content.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunks } from '../src/manifest/chunk-files.js';
import { encodeChunk } from '../src/manifest/chunks.js';
import { tempDir } from './helpers/tmp.js';

const file = { path: 'a.parquet', sizeBytes: 10, mtimeMs: 1, fingerprint: 'fp', rows: 1, liveRows: 1, liveRowsExact: true, schemaIndex: 0, units: [{ rowOffset: 0, rows: 1, byteSize: 10 }] };
const seg = { id: '0123456789abcdef0123', rows: 1, ranges: [{ path: 'a.parquet', rowOffset: 0, rows: 1 }] };
const chunk = () => encodeChunk([file as never], [[seg]], ['0123456789abcdef']);

describe('ChunkWriter', () => {
  it('writes both objects into a folder it creates', async () => {
    const dir = path.join(tempDir(), 'chunks');
    const c = chunk();
    const bytes = await writeChunks(dir, [c]);
    expect(bytes).toBe(c.index.length + c.entries.length);
    expect(fs.readFileSync(path.join(dir, `${c.id}.i.json`), 'utf8')).toBe(c.index);
    expect(fs.readFileSync(path.join(dir, `${c.id}.c.json`), 'utf8')).toBe(c.entries);
    expect(fs.readdirSync(dir).sort()).toEqual([`${c.id}.c.json`, `${c.id}.i.json`]);
  });

  it('in an existing folder, keeps objects with this content and replaces damaged ones', async () => {
    const dir = path.join(tempDir(), 'chunks');
    const c = chunk();
    await writeChunks(dir, [c]);
    expect(await writeChunks(dir, [c])).toBe(0); // nothing written again
    fs.writeFileSync(path.join(dir, `${c.id}.c.json`), `X${c.entries.slice(1)}`);
    expect(await writeChunks(dir, [c])).toBe(c.entries.length);
    expect(fs.readFileSync(path.join(dir, `${c.id}.c.json`), 'utf8')).toBe(c.entries);
    expect(fs.readdirSync(dir).sort()).toEqual([`${c.id}.c.json`, `${c.id}.i.json`]);
  });
});
