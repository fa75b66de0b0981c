#!/usr/bin/env node
// The package as a user gets it: `npm pack` (prepack builds dist/), then, for the lowest and the
// highest supported apache-arrow, a fresh project that installs the tarball and Arrow, and
//   - compiles a TypeScript ESM app (strict, module nodenext) with a custom scanner written against
//     that Arrow, and runs it (a refresh of a DuckDB-written parquet lake and of the custom format,
//     LakemapError.is, the lakemap/testing conformance check);
//   - require()s lakemap from CommonJS;
//   - runs the `lakemap` bin (--version, create, refresh --json, show --json).
// Also checks what the tarball ships: dist/, the sources every source map points at, no tests.
// Usage: node test/package/packed-install.mjs   (CI: .ci/run). Needs the npm registry or a warm cache.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const ARROW = ['18.1.0', '21.2.0']; // the ends of peerDependencies["apache-arrow"] (">=18.1.0 <22")
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-pack-'));
const started = Date.now();
let failures = 0;

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${e.status}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function check(what, ok, detail = '') {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] `);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n     ${detail}` : ''}`);
  if (!ok) failures++;
}

try {
  // 1. Pack: prepack builds, so this works on a fresh clone without dist/.
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo }));
  const tarball = path.join(work, packed[0].filename);
  const files = new Set(packed[0].files.map((f) => f.path));
  check('tarball ships dist/src/index.js, the testing kit and the bin', ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/testing/index.js', pkg.bin.lakemap.replace(/^\.\//, '')].every((f) => files.has(f)));
  check('tarball ships no tests, fixtures or benches', ![...files].some((f) => /^(test|fixtures|bench|dist\/fixtures|dist\/bench)\//.test(f)));
  const maps = [...files].filter((f) => f.endsWith('.map'));
  const missing = [];
  for (const m of maps) {
    const map = JSON.parse(run('tar', ['-xOzf', tarball, `package/${m}`]));
    for (const s of map.sources) {
      const rel = path.posix.normalize(path.posix.join(path.posix.dirname(m), map.sourceRoot ?? '', s));
      if (!files.has(rel)) missing.push(`${m} -> ${rel}`);
    }
  }
  check(`every source map (${maps.length}) points at a shipped source`, maps.length > 0 && missing.length === 0, missing.slice(0, 3).join(', '));

  // A parquet lake written by DuckDB, shared by both projects.
  const lake = path.join(work, 'lake');
  fs.mkdirSync(lake);
  const fixtures = pathToFileURL(path.join(repo, 'dist/fixtures/parquet/index.js')).href;
  const lakeRows = Number(run(process.execPath, ['--input-type=module', '-e', `const { writeExampleLake } = await import(${JSON.stringify(fixtures)}); const f = await writeExampleLake(${JSON.stringify(lake)}); console.log(f.reduce((n, x) => n + x.rows, 0));`], { cwd: repo }).trim());

  for (const arrow of ARROW) {
    console.log(`-- apache-arrow ${arrow}`);
    const app = path.join(work, `app-arrow-${arrow}`);
    fs.mkdirSync(path.join(app, 'rows'), { recursive: true });
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `apache-arrow@${arrow}`], { cwd: app });
    const installed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/apache-arrow/package.json'), 'utf8')).version;
    check(`one apache-arrow ${arrow} installed, none nested under lakemap`, installed === arrow && !fs.existsSync(path.join(app, 'node_modules/lakemap/node_modules/apache-arrow')));
    const lakemapDeps = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/lakemap/package.json'), 'utf8')).dependencies ?? {};
    check('lakemap depends on neither flatbuffers (fixtures only) nor apache-arrow (a peer)', !('flatbuffers' in lakemapDeps) && !('apache-arrow' in lakemapDeps));
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(app, 'rows', `f${i}.rows`), `${10 * (i + 1)}\n`);

    // TypeScript ESM, strict, nodenext: a custom scanner on this Arrow, the engine, the testing kit.
    fs.writeFileSync(path.join(app, 'scanner.ts'), `
import { Field, Int32, Schema, Utf8 } from 'apache-arrow';
import { corruptFile, type FileScanner } from 'lakemap';
const schema = new Schema([new Field('id', new Int32(), false), new Field('name', new Utf8(), true)]);
/** A file holding its row count as text. */
export const rowsScanner: FileScanner = {
  kind: 'file',
  format: 'rows',
  extensions: ['.rows'],
  tailBytes: 32,
  probe(file) {
    const rows = Number(new TextDecoder().decode(file.tail).trim());
    if (!Number.isSafeInteger(rows) || rows < 0) throw corruptFile(file.path, 'not a row count');
    return { rows, units: [{ rows, byteSize: file.size }], schema };
  },
};
`);
    fs.writeFileSync(path.join(app, 'app.ts'), `
import { LakemapError, RefreshEngine, manifestArrowSchema } from 'lakemap';
import { checkScanner } from 'lakemap/testing';
import { rowsScanner } from './scanner.js';
const [lake, rowsDir, root] = process.argv.slice(2) as [string, string, string];
const engine = new RefreshEngine({ root, scanners: [rowsScanner] });
await engine.createCollection({ collectionName: 'pq', externalSource: lake, externalSpec: { format: 'parquet' }, fields: [{ name: 'pk', externalField: 'id' }] });
await engine.createCollection({ collectionName: 'custom', externalSource: rowsDir, externalSpec: { format: 'rows' } });
const out: Record<string, unknown> = {};
for (const collectionName of ['pq', 'custom']) {
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
  const m = info.state === 'RefreshCompleted' ? await engine.getManifest({ collectionName }) : undefined;
  out[collectionName] = { state: info.state, reason: info.reason, rows: m?.totalRows, fields: m ? manifestArrowSchema(m).fields.map((f) => \`\${f.name}:\${f.type}\`) : [] };
}
try {
  await engine.getManifest({ collectionName: 'nope' });
} catch (e) {
  out.isError = LakemapError.is(e, 'COLLECTION_NOT_FOUND');
}
const report = await checkScanner(rowsScanner, { source: rowsDir });
out.conformance = report.problems;
console.log(JSON.stringify(out));
`);
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: ['node'], skipLibCheck: true, typeRoots: [path.join(repo, 'node_modules/@types')], outDir: 'out' }, files: ['app.ts', 'scanner.ts'] }),
    );
    let tscOut = '';
    try {
      tscOut = run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app });
    } catch (e) {
      tscOut = e.message;
    }
    check(`TypeScript ESM app and scanner compile (strict, nodenext) against apache-arrow ${arrow}`, tscOut === '', tscOut.slice(0, 2000));
    if (tscOut === '') {
      const r = JSON.parse(run(process.execPath, ['out/app.js', lake, path.join(app, 'rows'), path.join(app, 'meta-esm')], { cwd: app }));
      check('ESM: parquet lake refreshed with the right rows', r.pq.state === 'RefreshCompleted' && r.pq.rows === lakeRows && r.pq.fields.join() === 'pk:Int64', JSON.stringify(r.pq));
      check(`ESM: custom scanner on apache-arrow ${arrow} refreshed`, r.custom.state === 'RefreshCompleted' && r.custom.rows === 60 && r.custom.fields.join() === 'id:Int32,name:Utf8', JSON.stringify(r.custom));
      check('ESM: LakemapError.is and the lakemap/testing conformance check', r.isError === true && r.conformance.length === 0, JSON.stringify(r));
    }

    // CommonJS: require('lakemap') (require(esm), Node >= 20.19).
    fs.writeFileSync(path.join(app, 'script.cjs'), `
const { RefreshEngine, LakemapError } = require('lakemap');
const engine = new RefreshEngine({ root: process.argv[3] });
(async () => {
  await engine.createCollection({ collectionName: 'pq', externalSource: process.argv[2], externalSpec: { format: 'parquet' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'pq' })).jobId);
  const m = await engine.getManifest({ collectionName: 'pq' });
  let is = false;
  try { await engine.createCollection({ collectionName: 'pq', externalSource: process.argv[2], externalSpec: { format: 'parquet' } }); } catch (e) { is = LakemapError.is(e, 'COLLECTION_EXISTS'); }
  console.log(JSON.stringify({ state: info.state, rows: m.totalRows, is }));
})();
`);
    const cjs = JSON.parse(run(process.execPath, ['--no-warnings', 'script.cjs', lake, path.join(app, 'meta-cjs')], { cwd: app }));
    check('CommonJS: require("lakemap") refreshes', cjs.state === 'RefreshCompleted' && cjs.rows === lakeRows && cjs.is === true, JSON.stringify(cjs));

    // The bin, as npm links it.
    const bin = path.join(app, 'node_modules/.bin/lakemap');
    const meta = path.join(app, 'meta-bin');
    check('bin: lakemap --version', run(bin, ['--version']).trim() === pkg.version);
    run(bin, ['create', 'pq', '--source', lake, '--format', 'parquet', '--root', meta]);
    const job = JSON.parse(run(bin, ['refresh', 'pq', '--json', '--root', meta], { env: { ...process.env, CI: '1' } }));
    const shown = JSON.parse(run(bin, ['show', 'pq', '--json', '--root', meta]));
    check('bin: create, refresh --json, show --json', job.state === 'RefreshCompleted' && shown.totalRows === lakeRows, JSON.stringify(job).slice(0, 300));
  }
} catch (e) {
  failures++;
  console.log(`FAIL ${e.message}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`package test: ${failures === 0 ? 'passed' : `${failures} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failures === 0 ? 0 : 1;
