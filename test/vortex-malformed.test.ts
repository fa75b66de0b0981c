// The vortex scanner refuses bad files with a clear LakemapError: never a crash, a hang or a huge allocation.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVortexFile, type FixtureFile } from '../fixtures/vortex/file-writer.js';
import { Builder } from 'flatbuffers';
import { PType, finishBytes, writeLayout } from '../fixtures/vortex/flatbuffers.js';
import { SAMPLES, chunked, flat, structOf } from '../fixtures/vortex/samples.js';
import { scalarUint } from '../fixtures/vortex/scalar-proto.js';
import { vortexScanner } from '../scanners/vortex/index.js';
import { LakemapError, type FileProbe } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-vortex-bad-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function probeBytes(bytes: Uint8Array): Promise<FileProbe> {
  const file = path.join(dir, `f${n++}.vortex`);
  fs.writeFileSync(file, bytes);
  return probeLocalFile(vortexScanner, file);
}

async function refusal(bytes: Uint8Array): Promise<LakemapError> {
  try {
    await probeBytes(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(LakemapError);
    return e as LakemapError;
  }
  throw new Error('the probe did not fail');
}

const good = (): FixtureFile => ({ ...SAMPLES.flat_struct });
const bytesOf = (f: FixtureFile): Uint8Array => writeVortexFile(f).bytes;

describe('trailer', () => {
  it('refuses a legacy (pre-0.36) file ending in VRTX as UNSUPPORTED, saying it predates the stable format', async () => {
    const b = bytesOf(good());
    b.set(Buffer.from('VRTX'), b.length - 4);
    const e = await refusal(b);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/predates the stable Vortex file format \(0\.36\)/);
    expect(e.path).toMatch(/\.vortex$/);
  });

  it('refuses too-new and unknown version tags as UNSUPPORTED', async () => {
    for (const version of [2, 0, 65535]) {
      const e = await refusal(bytesOf({ ...good(), version }));
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.message).toContain(`version tag ${version}`);
    }
  });

  it('refuses bad magic at either end as CORRUPT_FILE', async () => {
    const tailBad = bytesOf(good());
    tailBad[tailBad.length - 1] = 0x58;
    expect((await refusal(tailBad)).message).toMatch(/expected "VTXF"/);
    const headBad = bytesOf(good());
    headBad[0] = 0;
    const e = await refusal(headBad);
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/does not start with "VTXF"/);
  });

  it('refuses truncated files: too short, cut at the end, cut at the front', async () => {
    const b = bytesOf(good());
    expect((await refusal(b.subarray(0, 5))).code).toBe('CORRUPT_FILE');
    expect((await refusal(b.subarray(0, b.length - 3))).code).toBe('CORRUPT_FILE');
    expect((await refusal(new Uint8Array(0))).code).toBe('CORRUPT_FILE');
    expect((await refusal(b.subarray(40))).code).toBe('CORRUPT_FILE');
  });

  it('refuses a postscript length larger than the file', async () => {
    const b = bytesOf(good()).subarray(-60).slice();
    b.set(Buffer.from('VTXF'), 0);
    new DataView(b.buffer).setUint16(b.length - 6, 1000, true);
    const e = await refusal(b);
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/postscript length 1000 does not fit/);
  });
});

/** A file of the shape Vortex 0.2x development builds wrote: VTXF at both ends, version tag 1, a 48-byte postscript of two inline segments. */
function preStableFile(dtypeSeg: [number, number], footerSeg: [number, number], payload = 64): Uint8Array {
  const b = new Uint8Array(4 + payload + 48 + 8);
  const v = new DataView(b.buffer);
  b.set(Buffer.from('VTXF'), 0);
  const ps = 4 + payload;
  v.setUint32(ps, 12, true); // root table at 12
  [8, 36, 4, 20].forEach((x, i) => v.setUint16(ps + 4 + 2 * i, x, true)); // vtable: 2 fields, inline at 4 and 20
  v.setInt32(ps + 12, 8, true); // table → vtable
  for (const [i, [offset, length]] of [dtypeSeg, footerSeg].entries()) {
    v.setBigUint64(ps + 16 + 16 * i, BigInt(offset), true);
    v.setUint32(ps + 24 + 16 * i, length, true);
    v.setUint8(ps + 28 + 16 * i, 3);
  }
  v.setUint16(b.length - 8, 1, true);
  v.setUint16(b.length - 6, 48, true);
  b.set(Buffer.from('VTXF'), b.length - 4);
  return b;
}

describe('pre-stable files told apart from corrupt ones', () => {
  it('refuses a VTXF file with a pre-stable 48-byte postscript as UNSUPPORTED, saying it predates the stable format', async () => {
    const e = await refusal(preStableFile([4, 20], [24, 40]));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/predates the stable Vortex file format \(0\.36\)/);
  });

  it('calls a 48-byte postscript corrupt when its segments point outside the file, or when it is garbage', async () => {
    const outside = await refusal(preStableFile([4, 20], [24, 4000]));
    expect(outside.code).toBe('CORRUPT_FILE');
    const garbage = preStableFile([4, 20], [24, 40]);
    garbage.fill(0xab, garbage.length - 56, garbage.length - 8);
    const e = await refusal(garbage);
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).not.toMatch(/predates/);
  });

  it('still calls a stable file with a damaged postscript corrupt', async () => {
    const b = bytesOf(good());
    const psLength = new DataView(b.buffer, b.byteOffset).getUint16(b.length - 6, true);
    b.fill(0xff, b.length - 8 - psLength, b.length - 8 - psLength + 4); // the root offset
    expect((await refusal(b)).code).toBe('CORRUPT_FILE');
  });
});

describe('postscript and footer', () => {
  it('refuses a footer segment that points past the postscript or into the magic', async () => {
    const past = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.layout!.offset += 1_000_000n) }));
    expect(past.code).toBe('CORRUPT_FILE');
    expect(past.message).toMatch(/layout segment .* does not lie between/);
    const huge = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.footer!.length = 0xffffffff) }));
    expect(huge.message).toMatch(/footer segment/);
    const front = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.dtype!.offset = 0n) }));
    expect(front.message).toMatch(/dtype segment/);
  });

  it('refuses a postscript without the required layout or footer segment', async () => {
    const e = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.footer = undefined) }));
    expect(e.message).toMatch(/no footer segment/);
  });

  it('refuses a file without an embedded dtype as UNSUPPORTED', async () => {
    const { dtype: _dropped, ...rest } = good();
    const e = await refusal(bytesOf(rest));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/without its dtype/);
  });

  it('refuses compressed footer segments as UNSUPPORTED', async () => {
    const e = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.dtype!.compressionScheme = 3) }));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/dtype segment is compressed/);
  });

  it('refuses segment-map entries outside the file and unordered offsets', async () => {
    const outside = await refusal(bytesOf({ ...good(), editSegments: (s) => void (s[1]!.offset = 1n << 40n) }));
    expect(outside.message).toMatch(/segment 1 .* lies outside the data area/);
    const unordered = await refusal(bytesOf({ ...good(), editSegments: (s) => s.reverse() }));
    expect(unordered.message).toMatch(/not ordered/);
  });
});

describe('layout and dtype', () => {
  it('refuses chunks whose rows do not add up to the chunked layout\'s rows', async () => {
    const layout = chunked([flat(3), flat(2)]);
    layout.rows = 9;
    const e = await refusal(bytesOf({ dtype: { kind: 'primitive', ptype: PType.I64 }, layout }));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/has 9 rows but the sum of its chunks has 5/);
  });

  it('refuses struct layouts whose children disagree with the dtype or its rows', async () => {
    const dtype = SAMPLES.flat_struct.dtype;
    expect((await refusal(bytesOf({ dtype, layout: structOf(5, [flat(5)]) }))).message).toMatch(/has 1 children, but its dtype has 2 fields/);
    expect((await refusal(bytesOf({ dtype, layout: structOf(5, [flat(5), flat(4)]) }))).message).toMatch(/child 1 has 4/);
  });

  it('refuses a layout id or segment index the footer does not have', async () => {
    const e = await refusal(bytesOf({ ...good(), layoutIdsOverride: ['vortex.struct'] }));
    expect(e.message).toMatch(/uses layout id #1, but the footer lists only 1/);
    const seg = await refusal(bytesOf({ ...good(), editSegments: (s) => void s.pop() }));
    expect(seg.message).toMatch(/points at segment 1, but the segment map has 1/);
  });

  it('refuses dtype type tags from a newer writer, and the union dtype, as UNSUPPORTED', async () => {
    const newer = await refusal(bytesOf({ dtype: { kind: 'raw_tag', tag: 42 }, layout: flat(2) }));
    expect(newer.code).toBe('UNSUPPORTED');
    expect(newer.message).toMatch(/type tag 42/);
    const union = await refusal(bytesOf({ dtype: { kind: 'struct', fields: [['u', { kind: 'union' }]] }, layout: structOf(2, [flat(2)]) }));
    expect(union.code).toBe('UNSUPPORTED');
    expect(union.message).toMatch(/column u has the Vortex union dtype/);
  });

  it('refuses malformed timestamp metadata', async () => {
    const dtype = { kind: 'extension' as const, id: 'vortex.timestamp', storage: { kind: 'primitive' as const, ptype: PType.I64 }, metadata: Uint8Array.of(1, 9, 0) };
    expect((await refusal(bytesOf({ dtype, layout: flat(2) }))).message).toMatch(/vortex\.timestamp metadata .* is malformed/);
  });
});

describe('layout trees built to exhaust a reader', () => {
  /** A chunked layout whose two children are the same subtree, `levels` deep: 2^levels leaves. */
  function sharedSubtreeLayout(levels: number): Uint8Array {
    const b = new Builder(1024);
    let node = writeLayout(b, { encoding: 1, rowCount: 1n, children: [], segments: [0] });
    for (let i = 1; i <= levels; i++) {
      b.startVector(4, 2, 4);
      b.addOffset(node);
      b.addOffset(node);
      const children = b.endVector();
      b.startObject(5);
      b.addFieldInt16(0, 0, 0);
      b.addFieldInt64(1, 2n ** BigInt(i), 0n);
      b.addFieldOffset(3, children, 0);
      node = b.endObject();
    }
    return finishBytes(b, node);
  }

  // No timing assertion (noisy machines): the budget's message shows the walk stopped, and a walk of 2^40
  // nodes would never end, so the test's own timeout catches a missing bound.
  it('stops a shared-subtree layout of 2^40 nodes with CORRUPT_FILE instead of walking it', async () => {
    const e = await refusal(bytesOf({
      dtype: { kind: 'primitive', ptype: PType.I64 },
      layout: chunked([flat(1)]),
      layoutIdsOverride: ['vortex.chunked', 'vortex.flat'],
      layoutBytes: sharedSubtreeLayout(40),
    }));
    expect(e.code).toBe('CORRUPT_FILE');
    expect(e.message).toMatch(/more tables than the reader allows/);
  });

  it('refuses layouts nested deeper than 64', async () => {
    let layout = flat(1);
    for (let i = 0; i < 70; i++) layout = chunked([layout]);
    const e = await refusal(bytesOf({ dtype: { kind: 'primitive', ptype: PType.I64 }, layout }));
    expect(e.message).toMatch(/nested deeper than 64/);
  });

  it('maps a shallow shared-subtree layout (sharing is legal flatbuffers)', async () => {
    const p = await probeBytes(bytesOf({
      dtype: { kind: 'primitive', ptype: PType.I64 },
      layout: chunked([flat(1)]),
      layoutIdsOverride: ['vortex.chunked', 'vortex.flat'],
      layoutBytes: sharedSubtreeLayout(3),
    }));
    expect(p.rows).toBe(8);
    expect(p.units.map((u) => u.rows)).toEqual([4, 4]);
  });
});

describe('statistics problems are warnings, not failures', () => {
  it('maps the file and warns when statistics do not match the fields or are malformed', async () => {
    const fewer = await probeBytes(bytesOf({ ...good(), stats: [{ nullCount: 1n }] }));
    expect(fewer.rows).toBe(5);
    expect(fewer.details).not.toHaveProperty('fieldStats');
    expect(fewer.warnings?.[0]).toMatch(/cover 1 fields but the dtype has 2/);
    const garbage = await probeBytes(bytesOf({ ...good(), stats: [{ min: Uint8Array.of(0x1a, 0xff, 0xff, 0x7f) }, {}] }));
    expect(garbage.rows).toBe(5);
    expect(garbage.warnings?.[0]).toMatch(/file statistics are malformed/);
  });

  it('warns when integer statistics disagree with the dtype on signedness (the dtype still decides the type)', async () => {
    const p = await probeBytes(bytesOf({ ...good(), stats: [{ min: scalarUint(1n), max: scalarUint(7n) }, {}] }));
    expect(String(p.schema.fields[0]!.type)).toBe('Int64');
    expect(p.warnings).toEqual([expect.stringMatching(/column id: the dtype says i64 but the min statistic is stored as a uint64 scalar/)]);
    const agreeing = await probeBytes(bytesOf(good()));
    expect(agreeing.warnings ?? []).toEqual([]);
  });
});

describe('fuzzing the footer region', () => {
  it('every mutated file maps or fails with a LakemapError, quickly', async () => {
    let seed = 12345;
    const rand = (k: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % k;
    };
    const base = [SAMPLES.flat_struct, SAMPLES.default_writer_shape, SAMPLES.all_types].map((f) => writeVortexFile(f));
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const r = base[i % base.length]!;
      const b = r.bytes.slice();
      const from = Number(r.footerSegments.dtype!.offset);
      for (let k = 0, flips = 1 + rand(4); k < flips; k++) b[from + rand(b.length - 8 - from)] = rand(256);
      let outcome = 'mapped';
      try {
        await probeBytes(b);
      } catch (e) {
        if (!(e instanceof LakemapError)) throw new Error(`mutation ${i} escaped as ${String(e)}`);
        outcome = e.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(outcomes.get('CORRUPT_FILE')).toBeGreaterThan(50);
  });
});

// Edges of scanners/vortex/postscript.ts that survived mutation testing (issue 15).
describe('postscript edges', () => {
  it('names the missing layout segment, the out-of-range statistics segment, and the file of a compressed one', async () => {
    const noLayout = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.layout = undefined) }));
    expect(noLayout.code).toBe('CORRUPT_FILE');
    expect(noLayout.message).toMatch(/no layout segment \(required\)/);
    let hadStatistics = false;
    const stats = await refusal(
      bytesOf({
        ...good(),
        editPostscript: (ps) => {
          hadStatistics = ps.statistics !== undefined;
          if (ps.statistics) ps.statistics.offset = 1n << 40n;
        },
      }),
    );
    expect(hadStatistics).toBe(true);
    expect(stats.message).toMatch(/the statistics segment .* does not lie between/);
    // refused by the postscript's own bounds check, not by whatever reads the segment later
    const front = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.dtype!.offset = 0n) }));
    expect(front.message).toMatch(/the dtype segment \(offset 0, length \d+\) does not lie between the leading magic and the postscript/);
    const magic = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.dtype!.offset = 3n) }));
    expect(magic.message).toMatch(/the dtype segment \(offset 3, .* does not lie between/);
    const huge = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.footer!.length = 0xffffffff) }));
    expect(huge.message).toMatch(/the footer segment \(offset \d+, length 4294967295\) does not lie between/);
    const compressed = await refusal(bytesOf({ ...good(), editPostscript: (ps) => void (ps.dtype!.compressionScheme = 3) }));
    expect(compressed.path).toMatch(/\.vortex$/);
  });

  it('takes a 48-byte postscript for pre-stable only when both segments have bytes, start after the magic and end by the postscript', async () => {
    // payload 64: the postscript starts at 68, so [24, 44] ends exactly there
    const exact = await refusal(preStableFile([4, 20], [24, 44]));
    expect(exact.code).toBe('UNSUPPORTED');
    expect(exact.path).toMatch(/\.vortex$/);
    for (const [dtype, footer] of [
      [[4, 0], [24, 40]],
      [[3, 20], [24, 40]],
      [[4, 20], [24, 45]],
    ] as [[number, number], [number, number]][]) {
      const e = await refusal(preStableFile(dtype, footer));
      expect(e.code, `${dtype} ${footer}`).toBe('CORRUPT_FILE');
      expect(e.message).not.toMatch(/predates/);
    }
  });
});
