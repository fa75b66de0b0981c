// The lean probe path of workers (issue #10): a worker decodes each file without Apache Arrow and the
// engine's thread finishes it. Over the parquet corpus (good and bad files), decode → structured
// clone (what postMessage does) → finish gives exactly what the engine thread's own probe gives:
// the entry, its warnings, its schema, or the same error code and message. And nothing a lean
// worker imports loads Apache Arrow.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Prober } from '../src/scan/prober.js';
import { LeanProber } from '../src/scan/probe-lean.js';
import { isPromise } from '../src/scan/probe-util.js';
import { LocalStorage } from '../src/storage/local.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { parquetDecoder } from '../scanners/parquet/decode.js';
import { describeWithCorpus } from './helpers/corpus.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = path.resolve(repo, '../shared/corpus/parquet');

/**
 * Damaged copies of a few corpus files under `dir` (`damaged/…`): bytes of the footer flipped at
 * spread positions, so decoding, schema mapping and the row-group checks each fail somewhere.
 */
function writeDamaged(dir: string): string[] {
  const out: string[] = [];
  const sources = fs.readdirSync(path.join(CORPUS, 'data')).filter((f) => f.endsWith('.parquet')).sort().slice(0, 12);
  fs.mkdirSync(path.join(dir, 'damaged'), { recursive: true });
  for (const src of sources) {
    const bytes = fs.readFileSync(path.join(CORPUS, 'data', src));
    const len = bytes.readUInt32LE(bytes.length - 8);
    const start = bytes.length - 8 - len;
    for (let k = 1; k <= 6; k++) {
      const copy = Buffer.from(bytes);
      const at = start + Math.floor((len * k) / 7);
      copy[at] = copy[at]! ^ (k % 2 ? 0xff : 0x10);
      const rel = `damaged/${k}-${src}`;
      fs.writeFileSync(path.join(dir, rel), copy);
      out.push(rel);
    }
  }
  return out;
}

function corpusFiles(): string[] {
  const out: string[] = [];
  for (const sub of ['data', 'bad_data']) {
    const dir = path.join(CORPUS, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.parquet')) out.push(`${sub}/${f}`);
  }
  return out;
}

describeWithCorpus('parquet', 'lean probe (decode in a worker, finish on the engine thread)', () => {
  for (const verify of [undefined, 'footer'] as const) {
    it(`equals the engine thread's probe on every corpus file${verify ? ' (verify: "footer")' : ''}`, async () => {
      const dir = tempDir();
      fs.cpSync(CORPUS, dir, { recursive: true });
      const damaged = writeDamaged(dir);
      const storage = new LocalStorage(dir);
      const spec = { format: 'parquet', ...(verify ? { verify } : {}) };
      const ctx = { spec, signal: new AbortController().signal };
      const whole = new Prober(storage, parquetScanner, ctx);
      const finisher = new Prober(storage, parquetScanner, ctx);
      const lean = new LeanProber(storage, parquetDecoder, 'parquet', parquetScanner.tailBytes, ctx);
      const files = [...corpusFiles(), ...damaged];
      expect(files.length).toBeGreaterThan(50);
      let ok = 0;
      let failed = 0;
      let beyondTail = 0;
      for (const f of files) {
        const want = await whole.probe(f);
        const d = lean.decode(f);
        if (isPromise(d)) beyondTail++;
        const decoded = await d;
        // A worker posts a decoded file (cloned) or an error's code and message.
        const got = decoded.ok ? finisher.finishDecoded(f, structuredClone(decoded.value)) : decoded;
        if (want.ok) {
          ok++;
          expect(got.ok, f).toBe(true);
          if (!got.ok) continue;
          expect(got.file, f).toEqual(want.file);
          expect(got.warnings, f).toEqual(want.warnings);
        } else {
          failed++;
          expect(got.ok, f).toBe(false);
          if (got.ok) continue;
          expect({ code: got.error.code, message: got.error.message }, f).toEqual({ code: want.error.code, message: want.error.message });
        }
      }
      expect(finisher.schemas.stored).toEqual(whole.schemas.stored);
      expect(ok).toBeGreaterThan(30);
      expect(failed).toBeGreaterThan(20);
      expect(beyondTail, 'some footer lies beyond the tail (a second read)').toBeGreaterThan(0);
    });
  }
});

/** Static (non-type) imports of a TypeScript module, resolved to files or package names. */
function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
    const spec = m[1] ?? m[2]!;
    out.push(spec.startsWith('.') ? path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')) : spec);
  }
  return out;
}

describe('lean probe workers', () => {
  it('import nothing that loads Apache Arrow (it would cost most of a worker start-up)', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const todo = [path.join(repo, 'src/scan/probe-worker.ts'), path.join(repo, new URL(parquetScanner.split!.module.url).pathname.replace(/^.*\/(scanners\/)/, '$1').replace(/\.js$/, '.ts'))];
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const i of imports(f)) {
        if (i.startsWith('/')) todo.push(i);
        else packages.add(i);
      }
    }
    expect(seen.has(path.join(repo, 'scanners/parquet/decode.ts'))).toBe(true);
    expect(seen.has(path.join(repo, 'src/scan/probe-lean.ts'))).toBe(true);
    expect([...packages].filter((p) => !p.startsWith('node:'))).toEqual([]);
  });
});
