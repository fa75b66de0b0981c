// Every ```ts block of the README, docs/**/*.md and the TSDoc @examples of the public API, and every
// file of docs/examples/, compiled with strict `tsc` (nodenext) against the package's own types.
// A block without imports is a fragment: it gets the prelude below (an `engine`, a `schema`, the
// guide's `jsonlScanner` and the public names), so fragments stay short in the docs yet type-check.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const PRELUDE = `import { RefreshEngine, LakemapError, ProtoReader, corruptFile, manifestArrowSchema, builtinScanners, icebergScanner, lanceScanner, parquetScanner, vortexScanner, type FileScanner, type TableScanner, type ScanContext, type FileProbe } from 'lakemap';
import { checkScanner, assertScannerConforms, fixtureDir, writeFixtures } from 'lakemap/testing';
import { Schema, Field, Int64, Utf8 } from 'apache-arrow';
import { jsonlScanner } from '../../../docs/examples/jsonl-scanner.js';
`;
/** Values a fragment may use without defining them (declared only when the fragment does not). */
const CONTEXT: Record<string, string> = {
  engine: "import('lakemap').RefreshEngine",
  schema: "import('apache-arrow').Schema",
  bytes: 'Uint8Array',
  root: 'string',
  jsonlScanner: "import('lakemap').FileScanner",
};

/** The prelude of a snippet: the public imports for fragments, and the context values it uses but does not define. */
function prelude(code: string, complete: boolean): string {
  const declared = Object.entries(CONTEXT)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code))
    .filter(([name]) => !new RegExp(`\\b(?:const|let|var|function)\\s+${name}\\b|^import .*\\b${name}\\b`, 'm').test(code))
    .filter(([name]) => complete || name !== 'jsonlScanner')
    .map(([name, type]) => `declare const ${name}: ${type};\n`);
  return (complete ? '' : PRELUDE) + declared.join('');
}

/** A hang guard, not a speed check: 120 s was met by tsc alone under load. */
const TSC_TIMEOUT_MS = 540_000;

interface Snippet {
  where: string;
  code: string;
}

function markdownFiles(): string[] {
  const out = [path.join(repo, 'README.md')];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'api') walk(path.join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(path.join(dir, e.name));
    }
  };
  walk(path.join(repo, 'docs'));
  return out;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

function extract(): Snippet[] {
  const snippets: Snippet[] = [];
  for (const file of markdownFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
      const line = text.slice(0, m.index).split('\n').length;
      snippets.push({ where: `${path.relative(repo, file)}:${line}`, code: m[1]! });
    }
  }
  // TSDoc @example blocks of what typedoc publishes: the sources under src/ and the exported scanners.
  const scannerEntries = fs.readdirSync(path.join(repo, 'scanners')).map((d) => path.join(repo, 'scanners', d, 'index.ts')).filter((f) => fs.existsSync(f));
  for (const file of [...sourceFiles(path.join(repo, 'src')), ...scannerEntries]) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*\* ```ts\n((?:\s*\*.*\n)*?)\s*\* ```/gm)) {
      const line = text.slice(0, m.index).split('\n').length + 1;
      const code = m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n');
      snippets.push({ where: `${path.relative(repo, file)}:${line}`, code });
    }
  }
  return snippets;
}

describe('docs snippets', () => {
  it('every ts snippet and docs/examples file compiles under strict tsc', () => {
    const snippets = extract();
    expect(snippets.length).toBeGreaterThanOrEqual(12);
    const dir = path.join(repo, 'node_modules', '.cache', 'lakemap-doc-snippets');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const names = new Map<string, string>();
    snippets.forEach((s, i) => {
      const name = `snippet-${String(i).padStart(3, '0')}.ts`;
      names.set(name, s.where);
      const complete = /^\s*import\s/m.test(s.code);
      // A guide's `./x.js` import means the example file docs/examples/x.ts.
      const code = s.code.replace(/from '\.\/([\w-]+)\.js'/g, (m, base: string) =>
        fs.existsSync(path.join(repo, 'docs', 'examples', `${base}.ts`)) ? `from '../../../docs/examples/${base}.js'` : m);
      fs.writeFileSync(path.join(dir, name), `${prelude(code, complete)}${code}\nexport {};\n`);
    });
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022'],
          types: ['node'],
          skipLibCheck: true,
          paths: { lakemap: ['../../../src/index.ts'], 'lakemap/testing': ['../../../src/testing/index.ts'] },
        },
        include: ['*.ts', '../../../docs/examples/*.ts'],
      }),
    );
    // tsc type-checks all of src/ here: 107 s measured on the loaded 2-core dev machine, against a 120 s limit.
    // Its own timeout (under the test's) turns a hang into a clear failure: vitest cannot interrupt spawnSync.
    const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: repo, timeout: TSC_TIMEOUT_MS });
    expect(r.error, `tsc did not finish: ${r.error?.message}`).toBeUndefined();
    // Name the doc and line, not the temp file.
    const report = r.stdout.replace(/(?:node_modules\/\.cache\/lakemap-doc-snippets\/)?(snippet-\d+\.ts)/g, (_m, n: string) => `${names.get(n)} (${n})`);
    expect(report).toBe('');
    expect(r.status).toBe(0);
  }, TSC_TIMEOUT_MS + 60_000);
});
