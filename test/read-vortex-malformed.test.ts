// Vortex segments that lakemap must not decode: valid encodings and layouts it does not read are
// refused with UNSUPPORTED naming the encoding, the column and the file; malformed segments (truncated,
// buffers past the end, absurd lengths, codes outside the dictionary) fail with CORRUPT_FILE naming the
// file; nothing crashes, hangs or allocates beyond the read budget. Never a wrong value.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { SourceFile } from '../src/read/source-file.js';
import { readVortexRange } from '../src/read/vortex/reader.js';
import { toArrowSchema } from '../scanners/vortex/arrow-schema.js';
import { readDType } from '../scanners/vortex/dtype.js';
import { boolArray, constantArray, dictArray, primitiveArray, varBinViewArray, type FixtureArray } from '../fixtures/vortex/arrays.js';
import { writeVortexFile, type FixtureFile, type FixtureLayout } from '../fixtures/vortex/file-writer.js';
import { PType } from '../fixtures/vortex/flatbuffers.js';
import { scalarInt } from '../fixtures/vortex/scalar-proto.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const flat = (rows: number, array: FixtureArray, more: Partial<FixtureLayout> = {}): FixtureLayout => ({ id: 'vortex.flat', rows, array, ...more });
const i32File = (layout: FixtureLayout): FixtureFile => ({ dtype: { kind: 'struct', fields: [['ok', { kind: 'primitive', ptype: PType.I32 }], ['bad', { kind: 'primitive', ptype: PType.I32, nullable: true }]] }, layout: { id: 'vortex.struct', rows: layout.rows, children: [flat(layout.rows, primitiveArray('I32', new Array(layout.rows).fill(1))), layout] } });

/** Maps `file` as `name` and reads its segments; returns the error (or throws if rows come back). */
async function readError(file: FixtureFile, name = 'f.vortex', readBudgetBytes?: number): Promise<{ code: string; message: string }> {
  const src = tempDir();
  writeFile(path.join(src, name), writeVortexFile(file).bytes);
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted'); // the footer is fine: only values are bad
  const m = await engine.getManifest({ collectionName: 'v' });
  try {
    for (const s of m.segments) {
      for await (const b of engine.readSegment({ collectionName: 'v', segmentId: s.id, ...(readBudgetBytes ? { readBudgetBytes } : {}) })) {
        void b;
      }
    }
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('the segment was read without an error');
}

describe('vortex reading refuses what it does not decode, by name', () => {
  it('a compressed encoding the default writer uses (fastlanes.bitpacked): UNSUPPORTED naming encoding, column, file', async () => {
    const e = await readError(i32File(flat(4, { encoding: 'fastlanes.bitpacked', metadata: Uint8Array.of(8, 3), buffers: [new Uint8Array(512)] })), 'packed.vortex');
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/packed\.vortex.*column "bad".*fastlanes\.bitpacked/);
  });

  it('ALP and FSST nested inside a canonical struct: UNSUPPORTED naming the inner encoding', async () => {
    const file: FixtureFile = {
      dtype: { kind: 'struct', fields: [['s', { kind: 'struct', fields: [['x', { kind: 'primitive', ptype: PType.F64 }], ['t', { kind: 'utf8' }]] }]] },
      layout: { id: 'vortex.struct', rows: 2, children: [flat(2, { encoding: 'vortex.struct', children: [{ encoding: 'vortex.alp', buffers: [new Uint8Array(16)] }, { encoding: 'vortex.fsst' }] })] },
    };
    const e = await readError(file);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/f\.vortex.*column "s".*vortex\.alp/);
  });

  it('an unknown layout: UNSUPPORTED naming the layout', async () => {
    const e = await readError(i32File({ id: 'acme.future_layout', rows: 3, children: [flat(3, primitiveArray('I32', [1, 2, 3]))] }));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/column "bad".*layout acme\.future_layout/);
  });

  it('values above the read budget (a constant claiming 10^12 rows): refused before allocating', async () => {
    const file: FixtureFile = { dtype: { kind: 'primitive', ptype: PType.I64 }, layout: flat(1e12, constantArray(scalarInt(5n))) };
    const e = await readError(file, 'huge.vortex');
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/huge\.vortex.*read budget/);
  });

  it('a segment above readBudgetBytes: refused', async () => {
    const e = await readError(i32File(flat(300, primitiveArray('I32', new Array(300).fill(7)))), 'f.vortex', 1000);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/read budget/);
  });
});

describe('malformed vortex segments: CORRUPT_FILE naming the file', () => {
  const cases: [string, FixtureLayout, RegExp][] = [
    ['a truncated segment (its flatbuffer length no longer fits)', flat(4, primitiveArray('I32', [1, 2, 3, 4]), { editSegment: (s) => s.subarray(0, s.length - 9) }), /flatbuffer|offset|vtable|past the end/],
    ['the flatbuffer length points before the segment', flat(4, primitiveArray('I32', [1, 2, 3, 4]), { editSegment: (s) => { const c = s.slice(); new DataView(c.buffer).setUint32(c.length - 4, 0xfffffff0, true); return c; } }), /does not fit/],
    ['buffers past the end of the data', flat(4, primitiveArray('I32', [1, 2, 3, 4]), { editSegment: (s) => s.subarray(8) }), /runs past the 8 data bytes/],
    ['a buffer shorter than its rows', flat(4, primitiveArray('I32', [1, 2])), /holds 8 bytes, 4 i32 values need 16/],
    ['an absurd string view length', flat(2, mutateViews(varBinViewArray(['a', 'b']), 0xfffffff0)), /string view 0 points at bytes/],
    ['a dictionary code outside the values', flat(3, dictArray(primitiveArray('U8', [0, 5, 1]), 'U8', primitiveArray('I32', [10, 20]), 2)), /code 5 at row 1 is outside the 2 values/],
    ['a validity bitmap too short for its rows', flat(20, { encoding: 'vortex.primitive', buffers: [new Uint8Array(80)], children: [boolArray([true])] }), /bool buffer of 1 bytes \(bit offset 0\) cannot hold 20 values/],
    ['an encoding index outside the footer dictionary', flat(2, primitiveArray('I32', [1, null]), { editSegment: (s) => patchEncodingIndex(s) }), /encoding #200/],
  ];
  for (const [name, layout, reason] of cases) {
    it(name, async () => {
      const dtype = name.includes('string') ? { kind: 'utf8' as const } : { kind: 'primitive' as const, ptype: PType.I32, nullable: true };
      const file: FixtureFile = { dtype: { kind: 'struct', fields: [['bad', dtype]] }, layout: { id: 'vortex.struct', rows: layout.rows, children: [layout] } };
      const e = await readError(file, 'broken.vortex');
      expect(e.code, e.message).toBe('CORRUPT_FILE');
      expect(e.message).toMatch(/broken\.vortex/);
      expect(e.message).toMatch(reason);
    });
  }

  it('random byte flips in the data segments: an error with a code or correct-shaped rows, never a crash or hang', () => {
    const base = writeVortexFile({
      dtype: { kind: 'struct', fields: [['s', { kind: 'utf8', nullable: true }], ['n', { kind: 'primitive', ptype: PType.I64, nullable: true }]] },
      layout: { id: 'vortex.struct', rows: 5, children: [flat(5, varBinViewArray(['a', null, 'a long string of bytes', '', 'x'])), flat(5, primitiveArray('I64', [1n, null, 3n, 4n, 5n]))] },
    });
    const dataEnd = Number(base.footerSegments.dtype!.offset);
    const dir = tempDir();
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const codes = new Map<string, number>();
    for (let k = 0; k < 300; k++) {
      const bytes = base.bytes.slice();
      for (let j = 0; j < 3; j++) bytes[4 + rand(dataEnd - 4)] = rand(256);
      const file = path.join(dir, `fuzz.vortex`);
      fs.writeFileSync(file, bytes);
      const src = new SourceFile(file, 'fuzz.vortex', 1 << 20);
      try {
        const dtype = readDType('fuzz.vortex', bytes.subarray(dataEnd, dataEnd + base.footerSegments.dtype!.length));
        const schema = toArrowSchema('fuzz.vortex', dtype);
        const columns = schema.fields.map((f) => ({ field: f, external: f.name }));
        let rows = 0;
        for (const b of readVortexRange(src, { rowOffset: 0, rows: 5, columns, schema })) rows += b.numRows;
        expect(rows).toBe(5);
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        const code = (e as { code?: string }).code;
        expect(['CORRUPT_FILE', 'UNSUPPORTED'], String(e)).toContain(code);
        expect((e as Error).message).toMatch(/fuzz\.vortex/);
        codes.set(code!, (codes.get(code!) ?? 0) + 1);
      } finally {
        src.close();
      }
    }
    expect(codes.get('CORRUPT_FILE')).toBeGreaterThan(0);
  });
});

/** Sets the length of string view 0 to `n` (an out-of-line view into buffer 0 at offset 0). */
function mutateViews(a: FixtureArray, n: number): FixtureArray {
  const views = a.buffers![a.buffers!.length - 1]!.slice();
  new DataView(views.buffer).setUint32(0, n, true);
  return { ...a, buffers: [...a.buffers!.slice(0, -1), views] };
}

/** Rewrites the encoding index of the root node's first child (its validity, `vortex.bool` = #1) to 200. */
function patchEncodingIndex(segment: Uint8Array): Uint8Array {
  const s = segment.slice();
  const dv = new DataView(s.buffer);
  const fbLength = dv.getUint32(s.length - 4, true);
  const fb = s.length - 4 - fbLength;
  const table = (at: number): number => at + dv.getUint32(at, true); // follow a uoffset
  const field = (t: number, slot: number): number => {
    const vtable = t - dv.getInt32(t, true);
    const rel = dv.getUint16(vtable + 4 + 2 * slot, true);
    if (rel === 0) throw new Error(`field ${slot} absent`);
    return t + rel;
  };
  const root = table(field(table(fb), 0));
  const children = table(field(root, 2));
  const child = table(children + 4);
  dv.setUint16(field(child, 0), 200, true);
  return s;
}
