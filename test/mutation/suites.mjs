#!/usr/bin/env node
// Chooses, by a fixed rule, the suites each sampled file's mutants run against, so a directory-wide sample
// of src/ can be measured in per-group Stryker runs that cost seconds per mutant instead of a suite pass
// (see docs/testing.md, "Directory-wide, by a line sample"). Fewer suites can only lower a score: what
// these runs give is a lower bound.
//
//   node test/mutation/suites.mjs reports/sample-15.json [--cap 4] [--stratum src] [--out msrc-15] [--minus smaller-sample.json]
//
// The rule, per sampled file `src/<dir…>/<base>.ts`, over the suites vitest.mutate.config.ts runs
// (child-process-only and sandbox-unfit suites excluded), each class ordered by the suite's size in bytes
// (smallest first: a cheap proxy for its run time), classes taken in order until `cap` suites:
//   1. suites that import the module directly (`from '../src/<dir…>/<base>.js'`, static or dynamic);
//   2. suites whose file name contains `<base>` as a whole dash-separated word run (`store` matches
//      `manifest-chunks-store`, not `restore`);
//   3. suites whose file name starts with the directory path joined by dashes (`src/read/vortex/x.ts` →
//      `read-vortex-…`, `src/manifest/x.ts` → `manifest-…`), then with the first directory alone.
//   4. suites whose text names `<base>.ts` or `<base>.js` (a comment or a path); if all four classes are
//      empty, suites whose text names `<base>` as a word at all.
// Files of one subdirectory (src/<dir>/, or src/read/<dir>/) share one Stryker run: its MUTATE_TESTS is
// the union of their suites, and per-test coverage runs each mutant against the covering tests of that
// union (so a file may meet a few more suites than its own list; never fewer).
//
// Writes reports/msrc-<seed>/<group>.json (a Stryker config: the group's files, the sample checker,
// --ignoreStatic, its own sandbox, report and incremental file) and prints one shell line per group.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const sampleFile = argv[0];
if (!sampleFile) throw new Error('usage: suites.mjs <sample.json> [--cap N] [--stratum src]');
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const cap = Number(opt('cap', 4));
const stratum = opt('stratum', 'src');
const outName = opt('out', `msrc-${JSON.parse(fs.readFileSync(path.resolve(sampleFile), 'utf8')).seed}`);
const full = JSON.parse(fs.readFileSync(path.resolve(sampleFile), 'utf8'));
// --minus <smaller sample of the same seed>: plan only the lines the smaller one lacks (a larger sample
// run in a second pass; sample-report.mjs merges both passes' reports over the larger sample).
const minus = opt('minus', undefined);
const done = new Set(minus ? JSON.parse(fs.readFileSync(path.resolve(minus), 'utf8')).strata[stratum].lines : []);
const sample = { ...full, strata: { [stratum]: { ...full.strata[stratum], lines: full.strata[stratum].lines.filter((k) => !done.has(k)) } } };

// The suites a mutation run may use: those vitest.mutate.config.ts does not exclude.
const excluded = [
  /^cli\.test/, /^cli-commands/, /^cli-lazy-loading/, /^cli-object-store/, /^cli-read/, /^cli-tmux/, /^read-lance-cli/,
  /^crash/, /^engine-processes/, /^workers/, /^watch-cli/, /^watch-s3fs/, /^s3fs-/, /tmux/, /^docs-snippets/,
  /^vortex-flatc/, /^iceberg-volume/,
  // runs the package's bin (dist/) in a child process, like the CLI suites above: it can kill nothing
  /^cli-refresh-changed/,
];
const suites = fs
  .readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && !excluded.some((r) => r.test(f)))
  .map((f) => {
    const text = fs.readFileSync(path.join(root, 'test', f), 'utf8');
    const imports = new Set([...text.matchAll(/['"]\.\.\/(src\/[^'"]+)\.js['"]/g)].map((m) => `${m[1]}.ts`));
    return { name: f, stem: f.replace(/\.test\.ts$/, ''), size: text.length, imports, text };
  })
  .sort((a, b) => a.size - b.size || (a.name < b.name ? -1 : 1));

function choose(file) {
  const parts = file.replace(/\.ts$/, '').split('/').slice(1); // drop "src"
  const base = parts.at(-1);
  const dirs = parts.slice(0, -1);
  const words = (s) => s.split('-');
  const containsRun = (stem, w) => {
    const a = words(stem);
    const b = words(w);
    for (let i = 0; i + b.length <= a.length; i++) if (b.every((x, j) => a[i + j] === x)) return true;
    return false;
  };
  const classes = [
    suites.filter((s) => s.imports.has(file)),
    suites.filter((s) => containsRun(s.stem, base)),
    dirs.length ? suites.filter((s) => s.stem.startsWith(`${dirs.join('-')}-`)) : [],
    dirs.length > 1 ? suites.filter((s) => s.stem.startsWith(`${dirs[0]}-`)) : [],
    suites.filter((s) => s.text.includes(`${base}.ts`) || s.text.includes(`${base}.js`)),
  ];
  // Nothing yet (a module reached only through re-exports, e.g. src/wire/protobuf.ts): suites whose text
  // names the base name as a word at all.
  if (classes.every((c) => c.length === 0)) classes.push(suites.filter((s) => new RegExp(`\\b${base}\\b`, 'i').test(s.text)));
  const out = [];
  for (const c of classes) for (const s of c) if (out.length < cap && !out.includes(s.name)) out.push(s.name);
  return out;
}

const lines = sample.strata[stratum].lines;
const files = [...new Set(lines.map((k) => k.replace(/:\d+$/, '')))].sort();
const groups = new Map();
for (const f of files) {
  const parts = f.split('/');
  const g = parts[1] === 'read' && parts.length > 3 ? `read-${parts[2]}` : parts.length > 2 ? parts[1] : 'top';
  const entry = groups.get(g) ?? { files: [], suites: new Set(), perFile: {} };
  entry.files.push(f);
  entry.perFile[f] = choose(f);
  for (const s of entry.perFile[f]) entry.suites.add(s);
  groups.set(g, entry);
}

const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
const outDir = path.join('reports', outName);
fs.mkdirSync(path.join(root, outDir), { recursive: true });
// The lines this plan runs (MUTATE_SAMPLE for the sample checker).
const runSample = path.join(outDir, 'sample.json');
fs.writeFileSync(path.join(root, runSample), JSON.stringify(sample, null, 1) + '\n');
const plan = {};
for (const [g, e] of groups) {
  const cfg = {
    ...base,
    _comment: `Group ${g} of line sample ${sample.seed} (test/mutation/suites.mjs); run with MUTATE_SAMPLE and MUTATE_TESTS as printed.`,
    mutate: e.files,
    plugins: ['@stryker-mutator/vitest-runner', './test/mutation/sample-checker.mjs'],
    checkers: ['sample'],
    ignoreStatic: true,
    reporters: ['progress-append-only', 'json'],
    incrementalFile: `${outDir}/${g}-incremental.json`,
    jsonReporter: { fileName: `${outDir}/${g}.report.json` },
    tempDirName: `.stryker-tmp-${outName}-${g}`,
    ignorePatterns: ['.stryker-tmp*', 'reports'],
  };
  fs.writeFileSync(path.join(root, outDir, `${g}.json`), JSON.stringify(cfg, null, 1) + '\n');
  plan[g] = { files: e.perFile, suites: [...e.suites].sort(), sampledLines: lines.filter((k) => e.files.includes(k.replace(/:\d+$/, ''))).length };
  console.log(`# ${g}: ${plan[g].sampledLines} lines in ${e.files.length} files; suites: ${plan[g].suites.join(' ')}`);
  console.log(`MUTATE_SAMPLE=${runSample} MUTATE_TESTS='${plan[g].suites.map((s) => `test/${s}`).join(',')}' nice npx stryker run ${outDir}/${g}.json`);
}
fs.writeFileSync(path.join(root, outDir, 'plan.json'), JSON.stringify({ seed: sample.seed, cap, plan }, null, 1) + '\n');
