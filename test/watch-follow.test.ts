// A watch follows its collection's current source: a completed refresh that moved the source (externalSource
// given to the refresh, by this engine or another one on the same root) moves the watch with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

async function setup(mechanism: 'parcel' | 'poll') {
  const a = tempDir();
  const b = tempDir();
  writeJsonl(path.join(a, 'a.jsonl'), 10);
  writeJsonl(path.join(b, 'b.jsonl'), 20);
  const root = tempDir();
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner] });
  await engine.createCollection({ collectionName: 'c', externalSource: a, externalSpec: { format: 'jsonl' } });
  const w = engine.watch({ collectionName: 'c' }, { mechanism, debounceMs: 20, pollIntervalMs: 50, fullPassEvery: 1 });
  const files = (want: string[]) =>
    waitFor(`manifest of ${want.join(', ')}`, async () => {
      const m = await engine.getManifest({ collectionName: 'c' });
      return JSON.stringify(m.files.map((f) => f.path).sort()) === JSON.stringify(want) && m;
    });
  return { a, b, root, engine, w, files };
}

/**
 * A refresh started beside the watch. The watch may be refreshing right now (its first refresh's job is
 * still ending after its version became visible, a late native event, a poll): then this refresh meets the
 * collection's lock, at the call or in its job, as any second refresh does, and a caller retries, as this does.
 */
function refreshBeside(engine: RefreshEngine, collectionName: string, externalSource: string) {
  return waitFor('a refresh beside the watch\'s', async () => {
    const job = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName, externalSource })).jobId);
    return job.errorCode === 'REFRESH_IN_PROGRESS' ? undefined : job;
  });
}

describe.each(['parcel', 'poll'] as const)('a watch whose collection moves to another source (%s)', (mechanism) => {
  it('after a refresh on the same engine with externalSource, watches the new source and no longer the old', async () => {
    const { a, b, engine, w, files } = await setup(mechanism);
    try {
      await w.ready;
      await files(['a.jsonl']);
      expect(w.status().watching).toBe(fs.realpathSync(a));
      const moved = await refreshBeside(engine, 'c', b);
      expect(moved.state, moved.reason).toBe('RefreshCompleted');
      await waitFor('the watch on the new source', () => w.status().watching === fs.realpathSync(b));
      expect(w.status().mechanism).toBe(mechanism);
      writeJsonl(path.join(b, 'c.jsonl'), 5);
      await files(['b.jsonl', 'c.jsonl']);
      // The old source no longer counts: a change there is no hint (native events may still deliver late
      // duplicates of c.jsonl's events, so the test looks at what was hinted, not at how many refreshes ran).
      // Every hint is sampled (a later one replaces lastEvent), until at least 600 ms have passed and the
      // watch has acted on a later change of the new source: on a loaded machine a fixed 600 ms alone
      // could end before the old source, were it still watched, had looked.
      const hinted = new Set<string>();
      const sample = setInterval(() => w.status().lastEvent?.paths.forEach((p) => hinted.add(p)), 5);
      try {
        writeJsonl(path.join(a, 'late.jsonl'), 5);
        await new Promise((r) => setTimeout(r, 600));
        writeJsonl(path.join(b, 'later.jsonl'), 1);
        await files(['b.jsonl', 'c.jsonl', 'later.jsonl']);
      } finally {
        clearInterval(sample);
      }
      // Native events name files; a poller names the directory that changed ('' here), so with polling
      // this only shows that no hint named the old source's file.
      if (mechanism === 'parcel') expect(hinted).toContain('later.jsonl');
      expect(hinted).not.toContain('late.jsonl');
      expect(w.status().errors).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

describe('a watch whose collection another engine moved', () => {
  it('follows the new source after its own next completed refresh', async () => {
    const { a, b, root, w, files } = await setup('poll');
    const other = new RefreshEngine({ root, scanners: [jsonlScanner] });
    try {
      await w.ready;
      await files(['a.jsonl']);
      const moved = await refreshBeside(other, 'c', b);
      expect(moved.state, moved.reason).toBe('RefreshCompleted');
      writeJsonl(path.join(a, 'nudge.jsonl'), 1); // the watch still watches a: this change makes it refresh, which reads b
      await waitFor('the watch on the new source', () => w.status().watching === fs.realpathSync(b));
      writeJsonl(path.join(b, 'c.jsonl'), 5);
      await files(['b.jsonl', 'c.jsonl']);
      expect(w.status().errors).toEqual([]);
    } finally {
      await w.close();
      await other.close();
    }
  });
});
