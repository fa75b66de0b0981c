// Temporary directories for tests, made under the run's folder (test/helpers/global-setup.ts), which
// is removed when the run ends.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh empty directory under the OS temp dir. */
export function tempDir(prefix = 'lakemap-test-'): string {
  return fs.mkdtempSync(path.join(process.env.LAKEMAP_TEST_TMPDIR ?? os.tmpdir(), prefix));
}

/** Writes a file, creating its parent directories. */
export function writeFile(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** Writes a JSON Lines file of `rows` rows `{ id, name, score }` starting at id `from`. */
export function writeJsonl(file: string, rows: number, from = 0): void {
  const lines: string[] = [];
  for (let i = from; i < from + rows; i++) lines.push(JSON.stringify({ id: i, name: `n${i}`, score: i / 2 }));
  writeFile(file, lines.join('\n') + '\n');
}
