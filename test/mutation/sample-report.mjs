#!/usr/bin/env node
// Estimates each stratum's mutation score from a line-sample run (see sample.mjs):
//   node test/mutation/sample-report.mjs reports/sample-<seed>.json reports/mutation/sample-<seed>.json [--list]
//   node test/mutation/sample-report.mjs reports/sample-<seed>.json reports/msrc-<seed>/*.report.json [--list]
//
// Several Stryker reports (e.g. one per group of files, each run against its own suites: suites.mjs, or
// a later run of more lines of the same seed) are merged: a line's mutants must all come from one report,
// so no mutant is counted twice.
//
// Score = (killed + timed out) / (killed + timed out + survived + no coverage), Stryker's definition;
// static mutants left out by --ignoreStatic and errors count in neither. Over a cluster sample this is a
// ratio estimator (the sampled lines' detected mutants over their valid mutants). Its 95% interval:
// a percentile bootstrap over lines (resampling whole lines, 10,000 times, seeded), and for comparison the
// linearised (Taylor) interval r ± 1.96·SE with SE² = (1 − f)/(n·m̄²) · Σ(dᵢ − r·mᵢ)²/(n − 1).
import * as fs from 'node:fs';
import { mulberry32 } from '../helpers/prng.mjs';

const args = process.argv.slice(2);
const list = args.includes('--list');
// --killed-by-hand FILE: survivors or uncovered mutants checked by hand since the run (the line broken, a
// test failing), one per line as --list prints them (`S src/x.ts:12:7 Mutator "replacement"`, the text
// after ` | ` and `#` comments ignored); counted as killed, for an "after" figure that is counted, not run.
const byHandAt = args.indexOf('--killed-by-hand');
const byHand = new Set(
  byHandAt >= 0
    ? fs
        .readFileSync(args[byHandAt + 1], 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*$/, '').split(' | ')[0].trim().replace(/^[SN] /, ''))
        .filter(Boolean)
    : [],
);
const usedByHand = new Set();
const [sampleFile, ...reportFiles] = args.filter((a, i) => a !== '--list' && a !== '--killed-by-hand' && !(byHandAt >= 0 && i === byHandAt + 1));
if (!sampleFile || reportFiles.length === 0) throw new Error('usage: sample-report.mjs <sample.json> <stryker report.json>... [--list]');
const sample = JSON.parse(fs.readFileSync(sampleFile, 'utf8'));
const reports = reportFiles.map((f) => ({ f, files: JSON.parse(fs.readFileSync(f, 'utf8')).files }));
// "file:line" → counts of the mutants starting there.
const perLine = new Map();
const listed = [];
const fromReport = new Map(); // "file:line" → the report its mutants came from
// Static mutants are marked Ignored (--ignoreStatic) before the sample checker runs, so every report of
// a file holds them, sampled line or not: count each once.
const ignoredSeen = new Set();
for (const { f: reportFile, files } of reports) for (const [file, { source, mutants }] of Object.entries(files)) {
  const rel = file.replace(/^.*?(?=(src|scanners)\/)/, '');
  const lines = source.split('\n');
  for (const m of mutants) {
    const key = `${rel}:${m.location.start.line}`;
    const c = perLine.get(key) ?? { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
    const handKey = `${key}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement ?? '')}`;
    if ((m.status === 'Survived' || m.status === 'NoCoverage') && byHand.has(handKey)) {
      usedByHand.add(handKey);
      c.killed++;
      perLine.set(key, c);
      continue;
    }
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
    else if (m.status === 'Ignored') {
      const id = `${key}:${m.location.start.column}:${m.mutatorName}:${m.replacement}`;
      if (!ignoredSeen.has(id)) c.ignored++;
      ignoredSeen.add(id);
      perLine.set(key, c);
      continue;
    }
    else if (m.status === 'CompileError' && m.statusReason === 'not in sample') continue;
    else c.errors++;
    if ((fromReport.get(key) ?? reportFile) !== reportFile) throw new Error(`${key} was measured in ${fromReport.get(key)} and ${reportFile}`);
    fromReport.set(key, reportFile);
    perLine.set(key, c);
    if (list && (m.status === 'Survived' || m.status === 'NoCoverage')) {
      listed.push(`${m.status === 'Survived' ? 'S' : 'N'} ${key}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement ?? '')} | ${lines[m.location.start.line - 1]?.trim().slice(0, 100)}`);
    }
  }
}

for (const k of byHand) if (!usedByHand.has(k)) console.log(`--killed-by-hand: no surviving or uncovered mutant ${k} in the reports`);
if (byHand.size) console.log(`${usedByHand.size} mutants counted as killed by hand (${byHandAt >= 0 ? args[byHandAt + 1] : ''})`);

for (const [name, s] of Object.entries(sample.strata)) {
  const rows = s.lines.map((key) => {
    const c = perLine.get(key) ?? { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
    return { key, ...c, d: c.killed + c.timeout, m: c.killed + c.timeout + c.survived + c.noCoverage };
  });
  const unseen = s.lines.filter((k) => !perLine.has(k));
  const sum = (f, rs = rows) => rs.reduce((a, r) => a + f(r), 0);
  const est = ratio(rows);
  const boot = bootstrap(rows, 10_000, sample.seed);
  const taylor = linearised(rows, est, s.frameLines);
  console.log(`\n${name}/ — seed ${sample.seed}: ${s.sampledLines} of ${s.frameLines} lines with mutants (${s.frameMutants} mutants in all)`);
  console.log(`  mutants: ${sum((r) => r.killed)} killed, ${sum((r) => r.timeout)} timed out, ${sum((r) => r.survived)} survived, ${sum((r) => r.noCoverage)} no coverage, ${sum((r) => r.ignored)} static (ignored), ${sum((r) => r.errors)} errors`);
  console.log(`  score ${pct(est)}  95% CI bootstrap ${pct(boot[0])}–${pct(boot[1])}, linearised ${pct(est - 1.96 * taylor)}–${pct(est + 1.96 * taylor)}`);
  if (unseen.length) console.log(`  lines without a mutant in the report (instrumenter differs?): ${unseen.join(', ')}`);
  const groups = new Map();
  for (const r of rows) {
    const parts = r.key.replace(/:\d+$/, '').split('/');
    const g = parts.length > 2 ? parts.slice(0, 2).join('/') + '/' : parts.join('/');
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  for (const [g, rs] of [...groups].sort()) {
    const m = sum((r) => r.m, rs);
    console.log(`  ${g.padEnd(28)} ${String(rs.length).padStart(3)} lines ${String(m).padStart(4)} mutants  ${m ? pct(sum((r) => r.d, rs) / m) : '—'}  (${sum((r) => r.killed, rs)} killed, ${sum((r) => r.timeout, rs)} timed out, ${sum((r) => r.survived, rs)} survived, ${sum((r) => r.noCoverage, rs)} no coverage, ${sum((r) => r.ignored, rs)} static)`);
  }
}
if (list) console.log('\n' + listed.sort().join('\n'));

function ratio(rows) {
  let d = 0;
  let m = 0;
  for (const r of rows) {
    d += r.d;
    m += r.m;
  }
  return d / m;
}

function bootstrap(rows, reps, seed) {
  const rng = mulberry32(seed);
  const out = [];
  for (let b = 0; b < reps; b++) {
    let d = 0;
    let m = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[Math.floor(rng() * rows.length)];
      d += r.d;
      m += r.m;
    }
    if (m > 0) out.push(d / m);
  }
  out.sort((a, b) => a - b);
  return [out[Math.floor(0.025 * out.length)], out[Math.ceil(0.975 * out.length) - 1]];
}

function linearised(rows, r, frameLines) {
  const n = rows.length;
  const mbar = rows.reduce((a, x) => a + x.m, 0) / n;
  const s2 = rows.reduce((a, x) => a + (x.d - r * x.m) ** 2, 0) / (n - 1);
  return Math.sqrt(((1 - n / frameLines) * s2) / (n * mbar * mbar));
}

function pct(x) {
  return `${(100 * x).toFixed(1)}%`;
}

