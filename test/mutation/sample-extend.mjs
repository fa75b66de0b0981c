#!/usr/bin/env node
// Seeds a larger line sample's incremental file from a smaller one's (same seed, so a superset: see
// sample.mjs), so the larger run tests only the lines the smaller one did not:
//   node test/mutation/sample-extend.mjs reports/sample-15-0-120-incremental.json reports/sample-15-0-200-incremental.json
//
// Why not just reuse the smaller file: its mutants outside the smaller sample are stored as
// "CompileError: not in sample", and Stryker would reuse that status instead of running them. This drops
// those entries (Stryker then sees them as new mutants and hands them to the sample checker, which runs the
// ones on the larger sample's lines); every tested result is kept and reused or retested by Stryker's usual
// incremental rules (a survivor that a new test covers is run again).
import * as fs from 'node:fs';

const [from, to] = process.argv.slice(2);
if (!from || !to) throw new Error('usage: sample-extend.mjs <smaller sample incremental.json> <larger sample incremental.json>');
if (fs.existsSync(to)) throw new Error(`${to} exists: it may hold another sample's results; remove it first`);
const report = JSON.parse(fs.readFileSync(from, 'utf8'));
let kept = 0;
let dropped = 0;
for (const file of Object.values(report.files)) {
  const before = file.mutants.length;
  file.mutants = file.mutants.filter((m) => !(m.status === 'CompileError' && m.statusReason === 'not in sample'));
  kept += file.mutants.length;
  dropped += before - file.mutants.length;
}
fs.writeFileSync(to, JSON.stringify(report));
console.log(`${to}: kept ${kept} tested results, dropped ${dropped} "not in sample" entries`);
