// An independent flatbuffer reader for tests: `flatc` (Debian's flatbuffers-compiler) generates
// TypeScript from one of our .fbs schemas at test time; it is transpiled to plain JS in a temp folder
// with its runtime import pointed at this project's flatbuffers package.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import ts from 'typescript';

/** True when `flatc` runs on this machine. */
export const hasFlatc = ((): boolean => {
  try {
    execFileSync('flatc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The generated module of `schemaFile` (its tables as classes) and flatbuffers' ByteBuffer, built in `tmp`. */
export async function loadFlatcReader(schemaFile: string, tmp: string): Promise<{ module: any; ByteBuffer: any }> {
  execFileSync('flatc', ['--ts', '--ts-flat-files', '-o', tmp, schemaFile]);
  const stem = path.basename(schemaFile, '.fbs');
  const generated = fs.readFileSync(path.join(tmp, `${stem}_generated.ts`), 'utf8');
  const flatbuffersUrl = pathToFileURL(createRequire(import.meta.url).resolve('flatbuffers').replace(/js[/\\]flatbuffers\.js$/, 'mjs/flatbuffers.js')).href;
  const js = ts.transpileModule(generated, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText
    .replace(/from 'flatbuffers'/g, `from '${flatbuffersUrl}'`);
  const out = path.join(tmp, `${stem}.mjs`);
  fs.writeFileSync(out, js);
  return { module: await import(/* @vite-ignore */ pathToFileURL(out).href), ByteBuffer: (await import(/* @vite-ignore */ flatbuffersUrl)).ByteBuffer };
}
