// A refresh that takes the lock clears temporary files killed writers left in the collection folder,
// but never those of a live process: another process may be linking its own lock attempt there at that
// very moment (`.tmp-refresh.lock-<pid>-…`), and removing it made that process fail with ROOT_IO_ERROR
// instead of REFRESH_IN_PROGRESS (seen as a flaky two-process test under load).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

function collectionFolder(root: string): string {
  const db = path.join(root, 'default');
  const [name] = fs.readdirSync(db).filter((n) => !n.startsWith('.'));
  return path.join(db, name!);
}

describe('temporary files in a collection folder', () => {
  it('are removed when their writer is dead and kept while it runs', async () => {
    const source = tempDir();
    writeJsonl(path.join(source, 'a.jsonl'), 3);
    const root = tempDir();
    const engine = new RefreshEngine({ root, scanners: [jsonlScanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
    const dir = collectionFolder(root);

    // a pid that ran and ended, and one that runs for the length of the test
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const deadTmp = path.join(dir, `.tmp-refresh.lock-${dead}-0123456789ab`);
      const liveTmp = path.join(dir, `.tmp-refresh.lock-${live.pid}-0123456789ab`);
      fs.writeFileSync(deadTmp, '{}');
      fs.writeFileSync(liveTmp, '{}');

      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(info.state).toBe('RefreshCompleted');
      expect(fs.existsSync(deadTmp), 'a dead writer leaves nothing to protect').toBe(false);
      expect(fs.existsSync(liveTmp), "a live process's temporary file is not ours to remove").toBe(true);
    } finally {
      live.kill();
    }
  });
});
