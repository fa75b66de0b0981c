// Temporary directories for tests, removed when the test process exits.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh empty directory under the OS temp dir. */
export function tempDir(prefix = 'lakemap-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
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
