// Durable writes whose fsyncs overlap (src/manifest/durable.ts): the content lands complete under a
// temporary name, `synced` resolves once flushed, and every descriptor opened for a write or a folder
// flush is closed again (the close runs where the flush ends, not as a second thread-pool call).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSynced, removeTemps, syncDirAsync, writePending } from '../src/manifest/durable.js';
import { tempDir } from './helpers/tmp.js';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
const hasProcFd = fs.existsSync('/proc/self/fd');

describe('writePending and syncDirAsync', () => {
  it('write complete content, flush it, and close what they opened', async () => {
    const dir = tempDir();
    const before = hasProcFd ? openFds() : 0;
    const pending = Array.from({ length: 20 }, (_, i) => writePending(path.join(dir, `f${i}.json`), i % 2 ? `text ${i}` : Buffer.from(`bytes ${i}`)));
    await allSynced(pending);
    await Promise.all([syncDirAsync(dir), syncDirAsync(dir), syncDirAsync(path.join(dir, 'missing'))]);
    if (hasProcFd) expect(openFds()).toBe(before);
    for (const [i, p] of pending.entries()) {
      expect(fs.readFileSync(p.tmp, 'utf8')).toBe(i % 2 ? `text ${i}` : `bytes ${i}`);
      expect(p.bytes).toBe(Buffer.byteLength(i % 2 ? `text ${i}` : `bytes ${i}`));
    }
    removeTemps(pending);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuse to overwrite: the temporary name is created exclusively, beside the final name', () => {
    const dir = tempDir();
    const p = writePending(path.join(dir, 'v.json'), '{}');
    expect(path.dirname(p.tmp)).toBe(dir);
    expect(path.basename(p.tmp)).toMatch(/^\.tmp-v\.json-/);
    removeTemps([p]);
  });
});
