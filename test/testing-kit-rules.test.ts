// `lakemap/testing`, rule by rule: each conformance check fires on a scanner that breaks exactly that rule
// (and stays quiet on one that keeps it), and each damaged variant is what its name says.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Field, Int32, Int64, Schema } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { LakemapError, type FileProbe, type FileScanner, type TableScanner } from 'lakemap';
import { assertScannerConforms, checkScanner, corruptVariants, fixtureDir, writeFixtures } from '../src/testing/index.js';

const schema = new Schema([new Field('id', new Int64(), false)]);
const good = (): FileProbe => ({ rows: 2, units: [{ rows: 1, byteSize: 1 }, { rows: 1, byteSize: 0 }], schema });
const sample = (files: Record<string, string | Uint8Array> = { 'a.bin': new Uint8Array(64).fill(7) }): string => {
  const dir = fixtureDir();
  writeFixtures(dir, files);
  return dir;
};
const fileScanner = (probe: FileScanner['probe'], extra: Partial<FileScanner> = {}): FileScanner => ({ kind: 'file', format: 'b', extensions: ['.bin'], probe, ...extra });
/** Problems found when the scanner answers `damaged()` for the damaged copies (here: `empty` only) and rightly for the rest. */
const damagedProblems = async (damaged: () => FileProbe): Promise<string[]> =>
  (await checkScanner(fileScanner((f) => (f.size === 0 ? damaged() : f.size < 64 ? Promise.reject(new LakemapError('CORRUPT_FILE', 'short', { path: f.path })) : good()), { tailBytes: 8 }), { source: sample() })).problems;
const problemsOf = async (probe: FileScanner['probe'], extra: Partial<FileScanner> = {}): Promise<string[]> =>
  (await checkScanner(fileScanner(probe, extra), { source: sample(), corruptions: false })).problems;

describe('conformance: the entry rules, one broken scanner each', () => {
  it('a scanner keeping every rule passes, with its counts', async () => {
    const r = await checkScanner(fileScanner(good), { source: sample({ 'a.bin': 'x', 'sub/b.bin': 'y', 'c.txt': 'z' }), corruptions: false });
    expect(r).toEqual({ ok: true, problems: [], checked: 2, corruptionsChecked: 0 });
    // Edge values that keep the rules: zero rows, liveRows equal to rows, JSON-safe details.
    expect(await problemsOf(() => ({ rows: 0, units: [], schema }))).toEqual([]);
    expect(await problemsOf(() => ({ ...good(), liveRows: 2, details: { a: 1 }, units: [{ rows: 2, byteSize: 0, details: { b: [1] } }] }))).toEqual([]);
    expect(await problemsOf(() => ({ ...good(), liveRows: 0 }))).toEqual([]);
    expect(await problemsOf(() => ({ ...good(), units: [{ rows: 0, byteSize: 0 }, { rows: 2, byteSize: 1 }] }))).toEqual([]);
  });

  it('the schema must be an Arrow schema with fields', async () => {
    expect(await problemsOf(() => ({ ...good(), schema: {} as never }))).toEqual(['a.bin: no Arrow schema']);
    // `fields` that is not an array: reached through a damaged copy (see the crash noted below).
    expect(await damagedProblems(() => ({ ...good(), schema: { fields: 'x' } as never }))).toEqual(['a.bin (empty): accepted a damaged copy but answered wrongly: no Arrow schema']);
  });

  it('rows must be a safe non-negative integer', async () => {
    for (const rows of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(await problemsOf(() => ({ ...good(), rows }))).toEqual([`a.bin: an invalid row count (${rows})`]);
    }
  });

  it('units must be an array; each unit a valid row count and byte size', async () => {
    expect(await problemsOf(() => ({ ...good(), units: undefined as never }))).toEqual(['a.bin: no units']);
    for (const rows of [-1, 0.5]) {
      expect(await problemsOf(() => ({ ...good(), units: [{ rows: 1, byteSize: 1 }, { rows, byteSize: 1 }] }))).toEqual([`a.bin: a unit with an invalid row count (${rows})`]);
    }
    for (const byteSize of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(await problemsOf(() => ({ ...good(), units: [{ rows: 2, byteSize }] }))).toEqual([`a.bin: a unit with an invalid byte size (${byteSize})`]);
    }
    // A fractional byte size is allowed (finite, not negative).
    expect(await problemsOf(() => ({ ...good(), units: [{ rows: 2, byteSize: 1.5 }] }))).toEqual([]);
    expect(await problemsOf(() => ({ ...good(), rows: 1 }))).toEqual(['a.bin: rows is 1 but the units add up to 2']);
  });

  it('liveRows, when given, lies between 0 and rows', async () => {
    for (const liveRows of [3, -1, 1.5]) {
      expect(await problemsOf(() => ({ ...good(), liveRows }))).toEqual([`a.bin: an invalid live row count (${liveRows} of 2)`]);
    }
  });

  it('details, of the entry and of each unit, must be JSON-safe', async () => {
    // Through a damaged copy: on a sample, the determinism check's signature throws first (noted below).
    expect(await damagedProblems(() => ({ ...good(), details: { n: 1n } as never }))).toEqual([expect.stringMatching(/^a\.bin \(empty\): accepted a damaged copy but answered wrongly: details that are not JSON-safe: .*BigInt/)]);
    expect(await damagedProblems(() => ({ ...good(), units: [{ rows: 2, byteSize: 1, details: { n: 1n } as never }] }))).toEqual([expect.stringMatching(/^a\.bin \(empty\): accepted a damaged copy but answered wrongly: details that are not JSON-safe: .*BigInt/)]);
  });

  // Bugs found by these tests: the determinism check's signature() threw on what checkEntry had just
  // reported, so checkScanner rejected with a TypeError instead of returning the problem.
  it('details that are not JSON-safe on a sample are reported, not thrown', async () => {
    expect(await problemsOf(() => ({ ...good(), details: { n: 1n } as never }))).toEqual([expect.stringMatching(/^a\.bin: details that are not JSON-safe/)]);
  });
  it('a schema whose fields is not an array on a sample is reported, not thrown', async () => {
    expect(await problemsOf(() => ({ ...good(), schema: { fields: 'x' } as never }))).toEqual(['a.bin: no Arrow schema']);
  });
});

describe('conformance: the file scanner checks around the entry', () => {
  it('validateSpec is called with the format merged into the spec, and a refusal is reported', async () => {
    const seen: unknown[] = [];
    const s = fileScanner(good, { validateSpec: (spec) => { seen.push(spec); throw new Error('nope'); } });
    const r = await checkScanner(s, { source: sample(), corruptions: false, spec: { x: 1 } });
    expect(seen).toEqual([{ format: 'b', x: 1 }]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['validateSpec refused the spec {"format":"b","x":1}: nope']);
    expect(r.checked).toBe(1);
  });

  it('the probe gets the spec and an unaborted signal, then an aborted one', async () => {
    const calls: [unknown, boolean][] = [];
    await checkScanner(fileScanner((_f, ctx) => { calls.push([ctx.spec, ctx.signal.aborted]); return good(); }), { source: sample(), corruptions: false, spec: { y: 2 } });
    expect(calls).toEqual([[{ format: 'b', y: 2 }, false], [{ format: 'b', y: 2 }, false], [{ format: 'b', y: 2 }, true]]);
  });

  it('a schema that changes between probes (a field\'s name, type or nullability) is not deterministic', async () => {
    const schemas = [
      [new Schema([new Field('id', new Int64(), false)]), new Schema([new Field('id', new Int64(), true)])],
      [new Schema([new Field('id', new Int64(), false)]), new Schema([new Field('id', new Int32(), false)])],
      [new Schema([new Field('id', new Int64(), false)]), new Schema([new Field('di', new Int64(), false)])],
    ];
    for (const pair of schemas) {
      let n = 0;
      expect(await problemsOf(() => ({ ...good(), schema: pair[n++ % 2]! }))).toEqual(['a.bin: two probes of the same file disagree (not deterministic)']);
    }
  });

  it('no sample file with the scanner\'s extensions', async () => {
    const src = sample({ 'a.txt': 'x' });
    const r = await checkScanner(fileScanner(good, { extensions: ['.bin', '.b2'] }), { source: src });
    expect(r).toEqual({ ok: false, problems: [`no file ending in .bin or .b2 under ${src}`], checked: 0, corruptionsChecked: 0 });
  });

  it('a sample refused, and only it reported (the next file still checked)', async () => {
    const s = fileScanner((f) => { if (f.path === 'a.bin') throw new LakemapError('CORRUPT_FILE', 'boom'); return good(); });
    const r = await checkScanner(s, { source: sample({ 'a.bin': 'x', 'b.bin': 'y' }), corruptions: false });
    expect(r.problems).toEqual(['a.bin: a sample file was refused: boom']);
    expect(r.checked).toBe(1);
  });

  it('a cancelled probe that throws a plain error; a LakemapError or an answer is fine', async () => {
    expect(await problemsOf((_f, ctx) => { if (ctx.signal.aborted) throw new Error('stop'); return good(); })).toEqual(['a.bin: with a cancelled signal the probe threw something other than a LakemapError: stop']);
    expect(await problemsOf((_f, ctx) => { if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'stop'); return good(); })).toEqual([]);
  });

  it('the byte budget: default 1 MiB plus the tail; unlimited with tailBytes 0', async () => {
    const big = sample({ 'a.bin': new Uint8Array(1024 * 1024 + 100) });
    const whole: FileScanner['probe'] = async (f) => { await f.read(0, f.size); return good(); };
    const r = await checkScanner(fileScanner(whole, { tailBytes: 8 }), { source: big, corruptions: false });
    expect(r.problems).toEqual([`a.bin: read ${1024 * 1024 + 108} bytes, more than the ${1024 * 1024 + 8} allowed (metadata only)`]);
    // Exactly at the budget is allowed.
    const exact = await checkScanner(fileScanner(async (f) => { await f.read(0, 24); return good(); }, { tailBytes: 8 }), { source: sample(), corruptions: false, maxBytesRead: 32 });
    expect(exact.problems).toEqual([]);
    // Without tailBytes the tail is 64 KiB.
    const tails: number[] = [];
    await checkScanner(fileScanner((f) => { tails.push(f.tail.length); return good(); }), { source: big, corruptions: false });
    expect(tails).toEqual([65536, 65536, 65536]);
    const dflt = await checkScanner(fileScanner(whole), { source: big, corruptions: false });
    expect(dflt.problems).toEqual([`a.bin: read ${65536 + 1024 * 1024 + 100} bytes, more than the ${1024 * 1024 + 65536} allowed (metadata only)`]);
    const r0 = await checkScanner(fileScanner(whole, { tailBytes: 0 }), { source: big, corruptions: false, maxBytesRead: 32 });
    expect(r0.problems).toEqual([]);
  });

  it('a read past the end is reported on a damaged copy, a read up to the end is not', async () => {
    const upToEnd = await checkScanner(fileScanner(async (f) => { await f.read(0, f.size); await f.read(f.size, 0); return good(); }, { tailBytes: 8 }), { source: sample() });
    expect(upToEnd.problems).toEqual([]);
    const negative = await checkScanner(fileScanner(async (f) => { if (f.size < 64) await f.read(-1, 1).catch(() => {}); return good(); }, { tailBytes: 8 }), { source: sample() });
    expect(negative.problems).toContain('a.bin (truncated-to-1): asked to read past the end of the file (check lengths against the size first)');
    const negLength = await checkScanner(fileScanner(async (f) => { if (f.size < 64) await Promise.resolve().then(() => f.read(0, -1)).catch(() => {}); return good(); }, { tailBytes: 8 }), { source: sample() });
    expect(negLength.problems).toContain('a.bin (truncated-to-1): asked to read past the end of the file (check lengths against the size first)');
  });
});

describe('conformance: damaged copies', () => {
  const shortFails = (err: (f: { path: string }) => unknown): FileScanner =>
    fileScanner((f) => { if (f.size < 64) throw err(f); return good(); }, { tailBytes: 8 });

  it('each variant is probed once under the sample\'s extension; refusals naming the file pass', async () => {
    const seen: string[] = [];
    const s = fileScanner((f) => { seen.push(f.path); if (f.size < 64) throw new LakemapError('CORRUPT_FILE', `${f.path}: short`); return good(); }, { tailBytes: 8 });
    const r = await checkScanner(s, { source: sample() });
    const names = corruptVariants(new Uint8Array(64).fill(7), 8).map((v) => `${v.name}.bin`);
    expect(r).toEqual({ ok: true, problems: [], checked: 1, corruptionsChecked: names.length });
    expect(seen).toEqual(['a.bin', 'a.bin', 'a.bin', ...names]);
    // The error's path is enough too.
    expect((await checkScanner(shortFails((f) => new LakemapError('CORRUPT_FILE', 'short', { path: f.path })), { source: sample() })).problems).toEqual([]);
  });

  it('a wrong answer on a damaged copy', async () => {
    const s = fileScanner((f) => (f.size < 64 ? { ...good(), rows: -1 } : good()), { tailBytes: 8 });
    const r = await checkScanner(s, { source: sample() });
    expect(r.problems[0]).toBe('a.bin (empty): accepted a damaged copy but answered wrongly: an invalid row count (-1)');
  });

  it('a hang on a damaged copy', async () => {
    const s = fileScanner((f) => (f.size === 0 ? new Promise<FileProbe>(() => {}) : good()), { tailBytes: 8 });
    const r = await checkScanner(s, { source: sample(), timeoutMs: 100 });
    expect(r.problems).toEqual(['a.bin (empty): the probe did not settle within 100 ms']);
  });

  it('a code outside the file codes', async () => {
    const r = await checkScanner(shortFails((f) => new LakemapError('INTERNAL' as never, `${f.path}: x`)), { source: sample() });
    expect(r.problems[0]).toBe('a.bin (empty): refused with code INTERNAL; expected one of CORRUPT_FILE, UNSUPPORTED, INVALID_SPEC, VERSION_NOT_FOUND, NOT_FOUND, IO_ERROR, CANCELLED');
    for (const code of ['UNSUPPORTED', 'INVALID_SPEC', 'VERSION_NOT_FOUND', 'NOT_FOUND', 'IO_ERROR', 'CANCELLED'] as const) {
      expect((await checkScanner(shortFails((f) => new LakemapError(code, `${f.path}: x`)), { source: sample() })).problems).toEqual([]);
    }
  });

  it('a plain exception and an error naming no file, with the exact messages', async () => {
    const plain = await checkScanner(shortFails(() => new Error('short')), { source: sample() });
    expect(plain.problems[0]).toBe('a.bin (empty): threw something other than a LakemapError (the engine reports it as SCANNER_ERROR): short');
    const nameless = await checkScanner(shortFails(() => new LakemapError('CORRUPT_FILE', 'short', { path: 'other.bin' })), { source: sample() });
    expect(nameless.problems[0]).toBe('a.bin (empty): the error names neither the file in its message nor in its path: short');
    const undef = await checkScanner(shortFails(() => undefined), { source: sample() });
    expect(undef.problems[0]).toBe('a.bin (empty): threw something other than a LakemapError (the engine reports it as SCANNER_ERROR): undefined');
    // Something thrown that is not an Error at all.
    const str = await checkScanner(shortFails(() => 'bare'), { source: sample() });
    expect(str.problems[0]).toBe('a.bin (empty): threw something other than a LakemapError (the engine reports it as SCANNER_ERROR): bare');
  });

  it('the damaged copies are removed afterwards', async () => {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('lakemap-conformance-')));
    await checkScanner(fileScanner(good, { tailBytes: 8 }), { source: sample() });
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('lakemap-conformance-') && !before.has(n))).toEqual([]);
  });

  it('assertScannerConforms throws listing every problem, and returns the report when fine', async () => {
    const s = fileScanner(() => ({ ...good(), rows: 5 }));
    await expect(assertScannerConforms(s, { source: sample({ 'a.bin': 'x', 'b.bin': 'y' }), corruptions: false }))
      .rejects.toThrow('scanner "b" breaks the scanner contract:\n  a.bin: rows is 5 but the units add up to 2\n  b.bin: rows is 5 but the units add up to 2');
    expect(await assertScannerConforms(fileScanner(good), { source: sample(), corruptions: false })).toEqual({ ok: true, problems: [], checked: 1, corruptionsChecked: 0 });
  });
});

describe('conformance: table scanners', () => {
  const entry = (p: string, fp = p) => ({ path: p, sizeBytes: 1, fingerprint: fp, rows: 1, units: [{ rows: 1, byteSize: 1 }] });
  const table = (snap: TableScanner['snapshot']): TableScanner => ({ kind: 'table', format: 't', snapshot: snap });
  const ok = async () => ({ tableVersion: '1', schema, entries: [entry('x'), entry('y')] });

  it('a conforming table (entries need no schema of their own) and its storage', async () => {
    const src = sample({ 'd/f.bin': new Uint8Array(10).fill(1) });
    const seen: unknown[] = [];
    const r = await checkScanner(table(async (st, ctx) => {
      seen.push(ctx.spec, st.root, await st.stat('d/f.bin').then((s) => s?.size), (await st.list('d')).map((e) => e.path));
      seen.push(Array.from(await st.readFile('d/f.bin', 100)), Array.from(await st.read('d/f.bin', 8, 2)));
      ctx.progress?.(1 as never);
      return ok();
    }), { source: src, spec: { z: 3 } });
    expect(r).toEqual({ ok: true, problems: [], checked: 2, corruptionsChecked: 0 });
    expect(seen.slice(0, 6)).toEqual([{ format: 't', z: 3 }, src, 10, ['d/f.bin'], Array(10).fill(1), [1, 1]]);
  });

  it('each table rule fires with its message', async () => {
    const src = sample();
    const failing = await checkScanner(table(async () => { throw new Error('gone'); }), { source: src });
    expect(failing.problems).toEqual([`${src}: the snapshot failed: gone`]);
    expect((await checkScanner(table(async () => { throw 'bare'; }), { source: src })).problems).toEqual([`${src}: the snapshot failed: bare`]);
    const noSchema = await checkScanner(table(async () => ({ ...(await ok()), schema: {} as never, tableVersion: 1 as never })), { source: src });
    expect(noSchema.problems).toEqual([`${src}: the snapshot has no Arrow schema`, `${src}: tableVersion is not a string`]);
    const badEntry = await checkScanner(table(async () => ({ ...(await ok()), entries: [{ ...entry('x'), rows: 2 }, entry('y', '')] })), { source: src });
    expect(badEntry.problems).toEqual(['x: rows is 2 but the units add up to 1', 'y: an entry without a fingerprint']);
    expect(badEntry.checked).toBe(2);
    // Entry details that are not JSON-safe: reported when the second snapshot fails (else see the bug below).
    let calls = 0;
    const bigint = await checkScanner(table(async () => { if (calls++ > 0) throw new LakemapError('CANCELLED', 'once'); return { ...(await ok()), entries: [{ ...entry('x'), details: { n: 1n } as never }] }; }), { source: src });
    expect(bigint.problems).toEqual([expect.stringMatching(/^x: details that are not JSON-safe: .*BigInt/)]);
  });

  it('entry details of a table that are not JSON-safe are reported, not thrown (tableSignature)', async () => {
    const r = await checkScanner(table(async () => ({ ...(await ok()), entries: [{ ...entry('x'), details: { n: 1n } as never }] })), { source: sample() });
    expect(r.problems).toEqual([expect.stringMatching(/^x: details that are not JSON-safe/)]);
  });

  it('non-determinism, a hang when cancelled, and a read past the end', async () => {
    const src = sample();
    let n = 0;
    expect((await checkScanner(table(async () => ({ ...(await ok()), tableVersion: String(++n) })), { source: src })).problems).toEqual([`${src}: two snapshots of the same table disagree (not deterministic)`]);
    for (const other of [new Schema([new Field('id', new Int32(), false)]), new Schema([new Field('di', new Int64(), false)])]) {
      let m = 0;
      const r = await checkScanner(table(async () => ({ ...(await ok()), schema: m++ === 1 ? other : schema })), { source: src });
      expect(r.problems).toEqual([`${src}: two snapshots of the same table disagree (not deterministic)`]);
    }
    let d = 0;
    expect((await checkScanner(table(async () => ({ ...(await ok()), details: { d: d++ === 1 } })), { source: src })).problems).toEqual([`${src}: two snapshots of the same table disagree (not deterministic)`]);
    const hang = await checkScanner(table(async (_s, ctx) => (ctx.signal.aborted ? new Promise<never>(() => {}) : ok())), { source: src, timeoutMs: 100 });
    expect(hang.problems).toEqual([`${src}: with a cancelled signal the snapshot did not settle within 100 ms`]);
    const cancels = await checkScanner(table(async (_s, ctx) => { if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'stop'); return ok(); }), { source: src });
    expect(cancels.problems).toEqual([]);
    const plain = await checkScanner(table(async (_s, ctx) => { if (ctx.signal.aborted) throw new Error('stop'); return ok(); }), { source: src });
    expect(plain.problems).toEqual([`${src}: with a cancelled signal the snapshot threw something other than a LakemapError`]);
    const past = await checkScanner(table(async (st) => { await st.read('a.bin', 60, 8).catch(() => {}); return ok(); }), { source: src });
    expect(past.problems[0]).toBe('a.bin: asked to read 8 bytes at 60, past the end (64 bytes)');
    const upTo = await checkScanner(table(async (st) => { await st.read('a.bin', 0, 64); await st.read('a.bin', 64, 0); return ok(); }), { source: src });
    expect(upTo.problems).toEqual([]);
    for (const [offset, length] of [[-1, 1], [0, -1]] as const) {
      const neg = await checkScanner(table(async (st) => { await Promise.resolve().then(() => st.read('a.bin', offset, length)).catch(() => {}); return ok(); }), { source: src });
      expect(neg.problems[0]).toBe(`a.bin: asked to read ${length} bytes at ${offset}, past the end (64 bytes)`);
    }
    // Answering anyway when cancelled is allowed; only the two plain snapshots are compared.
    let k = 0;
    expect((await checkScanner(table(async (_s, ctx) => ({ ...(await ok()), tableVersion: ctx.signal.aborted ? `c${k++}` : '1' })), { source: src })).problems).toEqual([]);
    // Thrown values that are not Errors, and a snapshot without a schema at all.
    expect((await checkScanner(table(async () => { throw undefined; }), { source: src })).problems).toEqual([`${src}: the snapshot failed: undefined`]);
    expect((await checkScanner(table(async () => ({ ...(await ok()), schema: undefined as never })), { source: src })).problems).toEqual([`${src}: the snapshot has no Arrow schema`]);
  });
});

describe('fixtures', () => {
  it('fixtureDir makes a fresh empty directory under the temp dir with the prefix', () => {
    const a = fixtureDir();
    const b = fixtureDir('my-prefix-');
    expect(path.dirname(a)).toBe(os.tmpdir());
    expect(path.basename(a).startsWith('lakemap-fixture-')).toBe(true);
    expect(path.basename(b).startsWith('my-prefix-')).toBe(true);
    expect(a).not.toBe(fixtureDir());
    expect(fs.readdirSync(a)).toEqual([]);
  });

  it('writeFixtures writes nested strings and bytes and returns the sorted paths', () => {
    const dir = path.join(fixtureDir(), 'new');
    expect(writeFixtures(dir, { 'z.txt': 'hi', 'sub/deep/a.bin': new Uint8Array([1, 2]) })).toEqual(['sub/deep/a.bin', 'z.txt']);
    expect(fs.readFileSync(path.join(dir, 'z.txt'), 'utf8')).toBe('hi');
    expect(Array.from(fs.readFileSync(path.join(dir, 'sub', 'deep', 'a.bin')))).toEqual([1, 2]);
  });

  it('corruptVariants: each variant named and damaged as it says (100 bytes, 16-byte tail)', () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
    const vs = corruptVariants(bytes, 16);
    const names = vs.map((v) => v.name);
    expect(names.slice(0, 8)).toEqual(['empty', 'truncated-to-1', 'truncated-to-4', 'truncated-to-8', 'truncated-to-50', 'truncated-to-92', 'truncated-to-96', 'truncated-to-99']);
    expect(names.at(-1)).toBe('huge-length-before-magic');
    expect(vs).toHaveLength(8 + 12 + 1);
    expect(vs[0]!.bytes).toEqual(new Uint8Array(0));
    for (const v of vs.slice(1, 8)) expect(v.bytes).toEqual(bytes.slice(0, Number(v.name.slice('truncated-to-'.length))));
    const flips = vs.slice(8, 20);
    // The fixed walk: the same positions every run, all within the last 16 bytes.
    expect(flips.map((v) => v.name)).toEqual(FLIPS_100_16.map((at) => `flipped-at-${at}`));
    for (const v of flips) {
      const at = Number(v.name.slice('flipped-at-'.length));
      expect(at).toBeGreaterThanOrEqual(84);
      expect(v.bytes).toHaveLength(100);
      const diff = [...v.bytes.keys()].filter((i) => v.bytes[i] !== bytes[i]);
      expect(diff).toEqual([at]);
      expect(v.bytes[at]).toBe(bytes[at]! ^ 0xff);
    }
    const huge = vs.at(-1)!.bytes;
    expect(Array.from(huge.slice(92, 96))).toEqual([255, 255, 255, 255]);
    expect(huge.slice(0, 92)).toEqual(bytes.slice(0, 92));
    expect(huge.slice(96)).toEqual(bytes.slice(96));
    expect(Array.from(bytes.slice(92, 96))).toEqual([92, 93, 94, 95]);
  });

  it('corruptVariants: tailBytes 0 flips across the whole file; a tail longer than the file is the file', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const whole = corruptVariants(bytes, 0).filter((v) => v.name.startsWith('flipped-at-')).map((v) => Number(v.name.slice(11)));
    expect(whole).toHaveLength(12);
    expect(Math.min(...whole)).toBeLessThan(200); // not only the default 64 KiB-style tail
    expect(corruptVariants(bytes, 1000).map((v) => v.name)).toEqual(corruptVariants(bytes, 0).map((v) => v.name));
    expect(corruptVariants(bytes, 300).map((v) => v.name)).toEqual(corruptVariants(bytes, 0).map((v) => v.name));
  });

  it('corruptVariants: small files (no duplicate or out-of-range cuts; no length field under 8 bytes)', () => {
    expect(corruptVariants(new Uint8Array(0), 16).map((v) => v.name)).toEqual(['empty']);
    const ten = corruptVariants(Uint8Array.from({ length: 10 }, (_, i) => i), 4).map((v) => v.name);
    expect(ten.filter((n) => n.startsWith('truncated-to-'))).toEqual([1, 2, 4, 5, 6, 8, 9].map((n) => `truncated-to-${n}`));
    expect(ten.at(-1)).toBe('huge-length-before-magic');
    const seven = corruptVariants(Uint8Array.from({ length: 7 }, (_, i) => i), 4).map((v) => v.name);
    expect(seven.filter((n) => n.startsWith('truncated-to-'))).toEqual([1, 3, 4, 6].map((n) => `truncated-to-${n}`));
    expect(seven).not.toContain('huge-length-before-magic');
    expect(seven.filter((n) => n.startsWith('flipped-at-'))).toHaveLength(12);
    const eight = corruptVariants(new Uint8Array(8), 8);
    expect(eight.at(-1)!.name).toBe('huge-length-before-magic');
    expect(Array.from(eight.at(-1)!.bytes)).toEqual([255, 255, 255, 255, 0, 0, 0, 0]);
    const one = corruptVariants(new Uint8Array([5]), 8);
    expect(one.map((v) => v.name)).toEqual(['empty', ...Array(12).fill('flipped-at-0')]);
    expect(Array.from(one[1]!.bytes)).toEqual([250]);
  });
});

const FLIPS_100_16 = [85, 84, 87, 94, 89, 88, 91, 98, 93, 92, 95, 86];
