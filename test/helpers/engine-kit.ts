// Small pieces several engine and CLI suites share: a refresh of collection `c` waited for, a collection of
// a jsonl source refreshed to a given number of versions, and the CLI's output captured in memory.
import * as path from 'node:path';
import { expect } from 'vitest';
import { RefreshEngine, type RefreshJobInfo } from 'lakemap';
import { jsonlScanner } from '../../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './tmp.js';

/**
 * Collection `c` of a jsonl source, refreshed `n` times (one new file each): versions 1 … n. `fresh()`
 * opens another engine on the root, which caches nothing, so its reads go to the files.
 */
export async function withVersions(n: number, options: { keepVersions?: number } = {}) {
  const root = tempDir();
  const source = tempDir();
  const fresh = () => new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0, ...options });
  const engine = fresh();
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  for (let v = 1; v <= n; v++) {
    writeJsonl(path.join(source, `part-${v}.jsonl`), 10, v * 10);
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.version).toBe(v);
  }
  const dir = path.join(root, 'default', 'c');
  return { root, source, engine, fresh, dir, manifests: path.join(dir, 'manifests'), current: path.join(dir, 'CURRENT') };
}

/** Stdout and stderr for `runCli`, kept in memory. */
export function captureIo() {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => ((out += s), true) } as never, stderr: { write: (s: string) => ((err += s), true) } as never },
    out: () => out,
    err: () => err,
  };
}

/** Refreshes collection `c` (told `changedPaths` when given) and waits for the job's end. */
export async function refresh(e: RefreshEngine, changedPaths?: string[]): Promise<RefreshJobInfo> {
  return e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c', ...(changedPaths ? { changedPaths } : {}) })).jobId);
}
