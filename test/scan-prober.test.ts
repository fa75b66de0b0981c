// What the engine makes of a file scanner's answers (issue 15, mutation testing of src/scan/prober.ts):
// the tail each probe sees, entries checked before they enter a manifest, errors that name the file,
// defaults and warnings, schemas shared between files, and `verify: "footer"` hashing what a probe read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Field, Int32, Schema, Utf8 } from 'apache-arrow';
import { LakemapError, RefreshEngine } from '../src/index.js';
import type { FileProbe, FileScanner, ProbeFile } from '../src/scanner.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const intSchema = (): Schema => new Schema([new Field('a', new Int32(), true)]);

/** A scanner of `.t` files whose answer `answer` computes from the probed file. */
function scanner(answer: (file: ProbeFile) => FileProbe | Promise<FileProbe>, tailBytes?: number): FileScanner {
  return { kind: 'file', format: 't', extensions: ['.t'], ...(tailBytes === undefined ? {} : { tailBytes }), probe: (file) => answer(file) };
}
const entry = (rows: number, extra: Partial<FileProbe> = {}): FileProbe => ({ rows, units: [{ rows, byteSize: 1 }], schema: intSchema(), ...extra });

async function refresh(lake: string, s: FileScanner, spec: Record<string, unknown> = {}, engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [s] })) {
  if (!(await engine.listCollections()).includes('c')) {
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 't', ...spec } });
  }
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  return { info, engine };
}

describe('the tail a probe sees', () => {
  it('probes still waiting keep their own tail while later files are read (local disk, async scanner)', async () => {
    const lake = tempDir();
    for (let i = 0; i < 40; i++) writeFile(path.join(lake, `f${String(i).padStart(2, '0')}.t`), `${'x'.repeat(i)}${String(i).padStart(4, '0')}`);
    const s = scanner(async (file) => {
      await new Promise((r) => setTimeout(r, 5)); // answer after the next files' tails were read
      const rows = Number(Buffer.from(file.tail.subarray(file.tail.length - 4)).toString());
      return entry(rows);
    }, 16);
    const { info, engine } = await refresh(lake, s);
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => [f.path, f.rows])).toEqual(Array.from({ length: 40 }, (_, i) => [`f${String(i).padStart(2, '0')}.t`, i]));
  });

  it('is the last tailBytes of the file, 64 KiB when the scanner does not say, the whole file when smaller', async () => {
    const lake = tempDir();
    const big = Buffer.alloc(100 * 1024, 1);
    writeFile(path.join(lake, 'big.t'), big);
    writeFile(path.join(lake, 'small.t'), 'abc');
    const seen = new Map<string, number>();
    const record = (file: ProbeFile): FileProbe => {
      seen.set(file.path, file.tail.length);
      expect(file.size).toBe(fs.statSync(path.join(lake, file.path)).size);
      return entry(1);
    };
    expect((await refresh(lake, scanner(record))).info.state).toBe('RefreshCompleted');
    expect(Object.fromEntries(seen)).toEqual({ 'big.t': 64 * 1024, 'small.t': 3 });
    seen.clear();
    expect((await refresh(lake, scanner(record, 1000))).info.state).toBe('RefreshCompleted');
    expect(Object.fromEntries(seen)).toEqual({ 'big.t': 1000, 'small.t': 3 });
  });
});

describe('a scanner answer is checked before it enters a manifest', () => {
  const cases: [string, FileProbe, RegExp][] = [
    ['negative rows', entry(-1), /returned an invalid row count \(-1\)/],
    ['fractional rows', { ...entry(1), rows: 1.5 }, /returned an invalid row count \(1\.5\)/],
    ['no units', { ...entry(1), units: undefined as never }, /no units/],
    ['a unit with negative rows', { ...entry(0), units: [{ rows: 1, byteSize: 1 }, { rows: -1, byteSize: 1 }] }, /a unit with an invalid row count \(-1\)/],
    ['a unit with fractional rows', { ...entry(1), units: [{ rows: 0.5, byteSize: 1 }, { rows: 0.5, byteSize: 1 }] }, /a unit with an invalid row count \(0\.5\)/],
    ['a unit with a negative size', { ...entry(1), units: [{ rows: 1, byteSize: -1 }] }, /a unit with an invalid byte size \(-1\)/],
    ['a unit with an infinite size', { ...entry(1), units: [{ rows: 1, byteSize: Infinity }] }, /a unit with an invalid byte size \(Infinity\)/],
    ['units that do not add up', { ...entry(5), units: [{ rows: 2, byteSize: 1 }, { rows: 2, byteSize: 1 }] }, /5 rows but units that add up to 4/],
    ['more live rows than rows', entry(3, { liveRows: 4 }), /an invalid live row count \(4 of 3\)/],
    ['negative live rows', entry(3, { liveRows: -1 }), /an invalid live row count \(-1 of 3\)/],
    ['fractional live rows', entry(3, { liveRows: 2.5 }), /an invalid live row count \(2\.5 of 3\)/],
  ];
  for (const [what, answer, reason] of cases) {
    it(`${what}: SCANNER_ERROR naming the scanner, the file and why`, async () => {
      const lake = tempDir();
      writeFile(path.join(lake, 'a.t'), 'x');
      const { info } = await refresh(lake, scanner(() => answer));
      expect(info.state).toBe('RefreshFailed');
      expect(info.errorCode).toBe('SCANNER_ERROR');
      expect(info.reason).toMatch(/scanner "t" returned/);
      expect(info.reason).toContain('a.t');
      expect(info.reason).toMatch(reason);
    });
  }

  it('edge values that are valid: zero rows, zero-byte units, all rows live, none live', async () => {
    const lake = tempDir();
    for (const n of ['a', 'b', 'c']) writeFile(path.join(lake, `${n}.t`), n);
    const answers: Record<string, FileProbe> = {
      'a.t': { rows: 0, units: [], schema: intSchema() },
      'b.t': { rows: 3, liveRows: 3, units: [{ rows: 1, byteSize: 0 }, { rows: 2, byteSize: 0 }], schema: intSchema() },
      'c.t': entry(2, { liveRows: 0, liveRowsExact: false }),
    };
    const { info, engine } = await refresh(lake, scanner((f) => answers[f.path]!));
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.files.map((f) => [f.path, f.rows, f.liveRows, f.liveRowsExact, f.units.length])).toEqual([
      ['a.t', 0, 0, true, 0],
      ['b.t', 3, 3, true, 2],
      ['c.t', 2, 0, false, 1],
    ]);
    expect(m.totalRows).toBe(3); // live rows
  });

  it('with skip_invalid the file is skipped with the code and the reason', async () => {
    const lake = tempDir();
    writeFile(path.join(lake, 'a.t'), 'x');
    writeFile(path.join(lake, 'b.t'), 'y');
    const { info, engine } = await refresh(lake, scanner((f) => (f.path === 'a.t' ? entry(-2) : entry(2))), { skip_invalid: true });
    expect(info.state).toBe('RefreshCompleted');
    expect(info.skipped).toEqual([expect.objectContaining({ path: 'a.t', code: 'SCANNER_ERROR' })]);
    expect(info.skipped[0]!.reason).toMatch(/invalid row count \(-2\)/);
    expect((await engine.getManifest({ collectionName: 'c' })).files.map((f) => f.path)).toEqual(['b.t']);
  });
});

describe('errors a scanner throws', () => {
  const thrown: [string, () => never, string, RegExp][] = [
    ['an Error', () => { throw new Error('boom'); }, 'SCANNER_ERROR', /scanner "t" failed on a\.t: boom/],
    ['a string', () => { throw 'plain text'; }, 'SCANNER_ERROR', /scanner "t" failed on a\.t: plain text/],
    ['a LakemapError', () => { throw new LakemapError('CORRUPT_FILE', 'a.t: bad bytes', { path: 'a.t' }); }, 'CORRUPT_FILE', /^a\.t: bad bytes$/],
  ];
  for (const [what, fail, code, reason] of thrown) {
    for (const mode of ['sync', 'async'] as const) {
      it(`${what}, ${mode === 'sync' ? 'thrown' : 'rejected'}: ${code} with the file`, async () => {
        const lake = tempDir();
        writeFile(path.join(lake, 'a.t'), 'x');
        const s = scanner(mode === 'sync' ? fail : async () => fail());
        const { info } = await refresh(lake, s);
        expect(info.state).toBe('RefreshFailed');
        expect(info.errorCode).toBe(code);
        expect(info.reason).toMatch(reason);
      });
    }
  }
});

describe('what a good answer becomes', () => {
  it('warnings name the file; liveRows defaults to rows and is exact; details and a scanner fingerprint are kept', async () => {
    const lake = tempDir();
    writeFile(path.join(lake, 'a.t'), 'x');
    writeFile(path.join(lake, 'b.t'), 'yy');
    const s = scanner((f) =>
      f.path === 'a.t'
        ? entry(4, { warnings: ['odd footer', 'old writer'], details: { writer: 'w1' }, fingerprint: 'fp-from-scanner' })
        : entry(2, { warnings: [] }),
    );
    const { info, engine } = await refresh(lake, s);
    expect(info.state).toBe('RefreshCompleted');
    expect(info.warnings).toEqual(['a.t: odd footer', 'a.t: old writer']);
    const m = await engine.getManifest({ collectionName: 'c' });
    const [a, b] = m.files;
    expect(a).toMatchObject({ path: 'a.t', rows: 4, liveRows: 4, liveRowsExact: true, details: { writer: 'w1' }, fingerprint: 'fp-from-scanner', sizeBytes: 1 });
    expect(b).toMatchObject({ path: 'b.t', rows: 2, liveRows: 2, liveRowsExact: true, sizeBytes: 2 });
    expect(b!.details).toBeUndefined();
    expect(b!.fingerprint).not.toBe(a!.fingerprint);
    expect(m.warnings).toEqual(['a.t: odd footer', 'a.t: old writer']);
  });

  it('files with equal schemas (distinct objects) share one; a different schema gets its own', async () => {
    const lake = tempDir();
    for (const n of ['a', 'b', 'c', 'd']) writeFile(path.join(lake, `${n}.t`), n);
    const shared = intSchema();
    const other = new Schema([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]);
    const schemaOf: Record<string, Schema> = { 'a.t': intSchema(), 'b.t': other, 'c.t': shared, 'd.t': shared };
    const { info, engine } = await refresh(lake, scanner((f) => ({ ...entry(1), schema: schemaOf[f.path]! })));
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.fileSchemas).toHaveLength(2);
    expect(m.files.map((f) => f.schemaIndex)).toEqual([0, 1, 0, 0]);
    expect(m.fileSchemas.map((s) => s.fields.map((f) => f.name))).toEqual([['a'], ['a', 'b']]);
  });
});

describe('verify: "footer" hashes every byte the probe read, not only the tail', () => {
  // A format whose row count is in a header outside the 8-byte tail: the probe reads it with file.read.
  const headerScanner = scanner(async (file) => {
    const header = await file.read(0, 4);
    return entry(Number(Buffer.from(header).toString()));
  }, 8);
  const write = (file: string, rows: number, mtime: Date): void => {
    writeFile(file, `${String(rows).padStart(4, '0')}${'-'.repeat(300)}`);
    fs.utimesSync(file, mtime, mtime);
  };

  for (const verify of ['footer', 'stat'] as const) {
    it(`a header rewritten with the same size and mtime is ${verify === 'footer' ? 'found' : 'not looked at'} (verify: "${verify}")`, async () => {
      const lake = tempDir();
      const file = path.join(lake, 'a.t');
      const mtime = new Date('2024-01-02T03:04:05Z');
      write(file, 10, mtime);
      const first = await refresh(lake, headerScanner, { verify });
      expect(first.info.state).toBe('RefreshCompleted');
      write(file, 20, mtime);
      const { info } = await refresh(lake, headerScanner, {}, first.engine);
      expect(info.state).toBe('RefreshCompleted');
      const m = await first.engine.getManifest({ collectionName: 'c' });
      if (verify === 'footer') {
        expect(info.warnings.join('\n')).toContain('a.t: content changed although its size and mtime did not');
        expect(m.totalRows).toBe(20);
      } else {
        expect(m.totalRows).toBe(10);
      }
    });
  }
});
