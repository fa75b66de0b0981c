// Stryker checker plugin for a line sample (see sample.mjs): passes the mutants that start on a sampled
// line and marks the others "CompileError" ("not in sample"), so they are never run and count in no score.
// The sample file is named by MUTATE_SAMPLE (the checker runs in Stryker's child process, which inherits
// the environment).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

class SampleChecker {
  sampled = new Set();

  async init() {
    const file = process.env.MUTATE_SAMPLE;
    if (!file) throw new Error('MUTATE_SAMPLE must name the sample file written by test/mutation/sample.mjs');
    const sample = JSON.parse(fs.readFileSync(path.resolve(file), 'utf8'));
    for (const s of Object.values(sample.strata)) for (const k of s.lines) this.sampled.add(k);
  }

  async check(mutants) {
    const out = {};
    for (const m of mutants) {
      const key = `${relative(m.fileName)}:${m.location.start.line + 1}`;
      out[m.id] = this.sampled.has(key) ? { status: 'passed' } : { status: 'compileError', reason: 'not in sample' };
    }
    return out;
  }
}

// Stryker hands the checker absolute sandbox paths or project-relative ones depending on the version:
// keep the part from src/ or scanners/ on.
function relative(fileName) {
  const p = fileName.split(path.sep).join('/');
  const i = Math.max(p.lastIndexOf('/src/'), p.lastIndexOf('/scanners/'));
  return i >= 0 ? p.slice(i + 1) : p;
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Checker, 'sample', SampleChecker)];
