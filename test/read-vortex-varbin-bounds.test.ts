// Vortex varbin arrays whose offsets do not fit their data, or whose offsets type code is unknown: a
// read fails with CORRUPT_FILE naming the file and the reason, never strings cut from the wrong bytes.
// From the directory-wide mutation sample (docs/testing.md): `encodings.ts`'s varbin bounds check and
// primitive type check survived every vortex suite.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { primitiveArray, protoVarints, type FixtureArray } from '../fixtures/vortex/arrays.js';
import { writeVortexFile, type FixtureFile } from '../fixtures/vortex/file-writer.js';
import { PType } from '../fixtures/vortex/flatbuffers.js';
import { tempDir, writeFile } from './helpers/tmp.js';

/** A varbin of `rows` strings over `data` with the given offsets (not checked here). */
function varbin(data: string, offsets: number[], ptypeCode: number = PType.I32): FixtureArray {
  return { encoding: 'vortex.varbin', metadata: protoVarints({ 1: ptypeCode }), buffers: [new TextEncoder().encode(data)], children: [primitiveArray('I32', offsets)] };
}

/** Maps a one-column utf8 file and reads it: the strings, or the error. */
async function read(array: FixtureArray, rows: number): Promise<{ values?: unknown[]; error?: { code: string; message: string } }> {
  const file: FixtureFile = { dtype: { kind: 'struct', fields: [['s', { kind: 'utf8' }]] }, layout: { id: 'vortex.struct', rows, children: [{ id: 'vortex.flat', rows, array }] } };
  const src = tempDir();
  writeFile(path.join(src, 'strings.vortex'), writeVortexFile(file).bytes);
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  const values: unknown[] = [];
  try {
    for await (const b of engine.readCollection({ collectionName: 'v' })) for (const r of b.toArray()) values.push(r.s);
  } catch (e) {
    return { error: e as { code: string; message: string } };
  }
  return { values };
}

describe('vortex varbin offsets', () => {
  it('offsets that fit read as the strings, an empty run included', async () => {
    expect((await read(varbin('abcd', [0, 2, 4]), 2)).values).toEqual(['ab', 'cd']);
    expect((await read(varbin('abcd', [1, 1, 1]), 2)).values).toEqual(['', '']);
  });

  for (const [name, offsets, reason] of [
    ['the last offset past the data', [0, 2, 9], 'varbin offsets [0, 9] do not fit the 4-byte buffer'],
    ['a negative first offset', [-1, 2, 4], 'varbin offsets [-1, 4] do not fit the 4-byte buffer'],
    ['the last offset before the first', [3, 3, 2], 'varbin offsets [3, 2] do not fit the 4-byte buffer'],
  ] as const) {
    it(`${name}: CORRUPT_FILE naming the file and the offsets`, async () => {
      const { error } = await read(varbin('abcd', [...offsets]), 2);
      expect(error?.code, error?.message).toBe('CORRUPT_FILE');
      expect(error?.message).toContain('strings.vortex');
      expect(error?.message).toContain(reason);
    });
  }

  it('an offsets type code that names no primitive type: CORRUPT_FILE naming the code', async () => {
    const { error } = await read(varbin('abcd', [0, 2, 4], 11), 2);
    expect(error?.code, error?.message).toBe('CORRUPT_FILE');
    expect(error?.message).toContain('unknown primitive type 11');
  });
});
