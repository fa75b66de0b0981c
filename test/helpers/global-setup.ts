// Vitest global setup: one temporary folder per test run, removed at teardown. Test workers never run
// `process.on('exit')` handlers reliably, so cleanup lives here, in the main process. TMPDIR points
// into it, so every `os.tmpdir()` of the workers and of the processes they start lands there too.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-run-'));
  process.env.LAKEMAP_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
