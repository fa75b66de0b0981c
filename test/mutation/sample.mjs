#!/usr/bin/env node
// Draws a seeded random sample of source lines for a mutation run, so a directory-wide mutation score
// can be estimated without testing all its mutants (hours on 2 cores).
//
// Design: a cluster sample. The frame is every line of the files stryker.config.json mutates on which
// at least one mutant *starts* (enumerated with Stryker's own instrumenter, so lines without mutants —
// blank, comments, imports, types — are never drawn). Each stratum (src/, scanners/) gets a simple random
// sample of lines without replacement; a sampled line contributes all the mutants that start on it,
// multi-line ones (a removed block, a whole condition) included. Stryker's line ranges could not select
// those (a range must contain the whole node, and then holds its nested mutants too), so the whole
// sampled files are mutated and the `sample` checker (sample-checker.mjs) passes only the sampled
// lines' mutants on to the test runners.
//
//   node test/mutation/sample.mjs --seed 15 --src 150 --scanners 100
//   npm run build && MUTATE_SAMPLE=reports/sample-15.json nice npx stryker run reports/cfg-sample-15.json
//   node test/mutation/sample-report.mjs reports/sample-15.json reports/mutation/sample-15.json
//
// The first k lines drawn do not depend on the sizes asked for, so a smaller sample with the same seed is
// a subset of a larger one (each a simple random sample).
//
// Writes reports/sample-<seed>.json (the frame sizes and the drawn lines) and reports/cfg-sample-<seed>.json
// (stryker.config.json with the sampled files, the checker, --ignoreStatic, its own sandbox and reports).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instrumenter } from '@stryker-mutator/instrumenter';
import { minimatch } from 'minimatch';
import { mulberry32 } from '../helpers/prng.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = parseArgs(process.argv.slice(2));
const seed = Number(args.seed ?? 15);
const sizes = { src: Number(args.src ?? 150), scanners: Number(args.scanners ?? 100) };
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${args.seed}`);

const config = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
const files = mutatedFiles(config.mutate);

// Stryker's instrumenter, as `stryker run` calls it (default mutators, no ignorers): same mutants, same
// locations. Its log is not needed here.
const quiet = { isDebugEnabled: () => false, debug() {}, info() {}, warn() {}, error() {}, trace() {}, isTraceEnabled: () => false };
const instrumented = await new Instrumenter(quiet).instrument(
  files.map((name) => ({ name, mutate: true, content: fs.readFileSync(path.join(root, name), 'utf8') })),
  { ignorers: [], plugins: null, excludedMutations: [] },
);
const mutantsPerLine = new Map(); // "file:line" (1-based) → mutants starting there
for (const m of instrumented.mutants) {
  const key = `${m.fileName}:${m.location.start.line + 1}`;
  mutantsPerLine.set(key, (mutantsPerLine.get(key) ?? 0) + 1);
}

const strata = {};
for (const [stratum, n] of Object.entries(sizes)) {
  if (n === 0) continue; // e.g. --src 0: sample scanners/ alone
  const frame = [...mutantsPerLine.keys()].filter((k) => k.startsWith(`${stratum}/`)).sort(byFileThenLine);
  const rng = mulberry32(seed ^ hash(stratum));
  const drawn = frame.slice();
  const take = Math.min(n, drawn.length);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rng() * (drawn.length - i));
    [drawn[i], drawn[j]] = [drawn[j], drawn[i]];
  }
  const lines = drawn.slice(0, take).sort(byFileThenLine);
  strata[stratum] = {
    frameLines: frame.length,
    frameMutants: frame.reduce((s, k) => s + mutantsPerLine.get(k), 0),
    sampledLines: lines.length,
    sampledMutants: lines.reduce((s, k) => s + mutantsPerLine.get(k), 0),
    lines,
  };
}

const sampleFile = path.join('reports', `sample-${seed}.json`);
const sample = { seed, strykerMutants: instrumented.mutants.length, files: files.length, strata };
fs.mkdirSync(path.join(root, 'reports'), { recursive: true });
fs.writeFileSync(path.join(root, sampleFile), JSON.stringify(sample, null, 1) + '\n');

const sampledFiles = [...new Set(Object.values(strata).flatMap((s) => s.lines.map((k) => k.replace(/:\d+$/, ''))))].sort();
const cfg = {
  ...config,
  _comment: `Seeded line sample ${seed} (test/mutation/sample.mjs); run with MUTATE_SAMPLE=${sampleFile}.`,
  mutate: sampledFiles,
  plugins: ['@stryker-mutator/vitest-runner', './test/mutation/sample-checker.mjs'],
  checkers: ['sample'],
  ignoreStatic: true,
  // One incremental file per sample: a mutant another sample left out is stored as "not in sample" and
  // would be reused as that, never run, if a larger sample read the same file.
  incrementalFile: `reports/sample-${seed}-${sizes.src}-${sizes.scanners}-incremental.json`,
  jsonReporter: { fileName: `reports/mutation/sample-${seed}.json` },
  htmlReporter: { fileName: `reports/mutation/sample-${seed}.html` },
  tempDirName: `.stryker-tmp-sample-${seed}`,
  ignorePatterns: ['.stryker-tmp*', 'reports'],
};
const cfgFile = path.join('reports', `cfg-sample-${seed}.json`);
fs.writeFileSync(path.join(root, cfgFile), JSON.stringify(cfg, null, 1) + '\n');

for (const [name, s] of Object.entries(strata)) {
  console.log(`${name}: ${s.sampledLines} of ${s.frameLines} lines with mutants, ${s.sampledMutants} of ${s.frameMutants} mutants`);
}
console.log(`wrote ${sampleFile} and ${cfgFile} (${sampledFiles.length} files mutated)`);

function mutatedFiles(patterns) {
  const all = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else all.push(rel);
    }
  };
  for (const dir of ['src', 'scanners']) walk(dir);
  return all
    .filter((f) => {
      let keep = false;
      for (const p of patterns) {
        if (p.startsWith('!')) keep &&= !minimatch(f, p.slice(1));
        else keep ||= minimatch(f, p);
      }
      return keep;
    })
    .sort();
}

function byFileThenLine(a, b) {
  const [fa, la] = [a.replace(/:\d+$/, ''), Number(a.slice(a.lastIndexOf(':') + 1))];
  const [fb, lb] = [b.replace(/:\d+$/, ''), Number(b.slice(b.lastIndexOf(':') + 1))];
  return fa < fb ? -1 : fa > fb ? 1 : la - lb;
}


function hash(s) {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`usage: sample.mjs [--seed N] [--src LINES] [--scanners LINES]`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}
