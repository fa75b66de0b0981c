// A commit's checks one by one (issue 15, survivors of the mutation run of src/manifest/versions.ts):
// each way the world can change under a refresh (another version, a dropped or re-created collection,
// a lost lock, CURRENT moved, the version file already there, the collection folder gone) is refused
// with its own COMMIT_CONFLICT message, and leaves CURRENT, the version files and no temporary behind;
// a commit that stands keeps the newest versions and prunes the chunks only older ones used.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine, type Manifest } from '../src/index.js';
import { VersionStore, type CommitExpectation } from '../src/manifest/versions.js';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';
import { rejection } from './helpers/rejection.js';

/** A collection at version 2 and the store of its versions, with version 3 ready to commit. */
async function atVersion2() {
  const root = tempDir();
  const source = tempDir();
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0, keepVersions: 50 });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  for (let v = 1; v <= 2; v++) {
    writeJsonl(path.join(source, `part-${v}.jsonl`), 10, v * 10);
    await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  }
  const previous = await engine.getManifest({ collectionName: 'c' });
  expect(previous.version).toBe(2);
  const next: Manifest = { ...previous, version: 3 };
  const dir = path.join(root, 'default', 'c');
  const store = new VersionStore(root, dir, 'default.c');
  return { root, dir, store, previous, next, manifests: path.join(dir, 'manifests'), current: path.join(dir, 'CURRENT') };
}

function expecting(over: Partial<CommitExpectation> = {}): CommitExpectation {
  return { version: 2, incarnation: 'i1', currentIncarnation: () => 'i1', lockHeld: () => true, ...over };
}

const refused = rejection;

/**
 * The collection's files, temporaries included, to compare before and after a refused commit. Chunks a
 * refused commit linked stay (content-addressed, used by no version: the next commit prunes them), so
 * only their temporaries are listed.
 */
function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((n) => !n.startsWith('chunks/') || path.basename(n).startsWith('.tmp-'))
    .sort();
}

const why = (version: number, reason: string) => `commit of default.c version ${version} refused: ${reason}; the previous version stays current`;

describe('a refused commit', () => {
  it('before writing: another start version, a dropped or re-created collection, a lost lock; each with its reason, nothing written', async () => {
    const s = await atVersion2();
    const before = files(s.dir);
    const cases: Array<[Manifest, CommitExpectation, string]> = [
      [{ ...s.next, version: 4 }, expecting(), why(4, 'the job started from version 2')],
      [s.next, expecting({ currentIncarnation: () => undefined }), why(3, 'the collection was dropped while the refresh ran')],
      [s.next, expecting({ currentIncarnation: () => 'i2' }), why(3, 'the collection was dropped and created again while the refresh ran')],
      [s.next, expecting({ lockHeld: () => false }), why(3, 'the refresh lock was taken away')],
    ];
    for (const [manifest, expected, message] of cases) {
      const e = await refused(s.store.commit(manifest, expected, 50, s.previous));
      expect([e.code, e.message, e.path]).toEqual(['COMMIT_CONFLICT', message, s.dir]);
      expect(files(s.dir)).toEqual(before);
    }
  });

  it('after writing: a lock lost or CURRENT moved meanwhile removes the version file and every temporary; CURRENT stays', async () => {
    const s = await atVersion2();
    const before = files(s.dir);
    let checks = 0;
    const lockLost = expecting({ lockHeld: () => ++checks === 1 });
    let e = await refused(s.store.commit(s.next, lockLost, 50, s.previous));
    expect([e.code, e.message]).toEqual(['COMMIT_CONFLICT', why(3, 'the refresh lock was taken away')]);
    expect(checks).toBe(2);
    expect(files(s.dir)).toEqual(before);
    expect(JSON.parse(fs.readFileSync(s.current, 'utf8'))).toEqual({ version: 2 });

    let looks = 0;
    const moved = expecting({
      currentIncarnation: () => {
        if (++looks === 2) fs.writeFileSync(s.current, JSON.stringify({ version: 1 })); // another writer, while we wrote
        return 'i1';
      },
    });
    e = await refused(s.store.commit(s.next, moved, 50, s.previous));
    expect([e.code, e.message]).toEqual(['COMMIT_CONFLICT', why(3, 'CURRENT names version 1, not 2 as when the job started')]);
    expect(files(s.dir)).toEqual(before);
    expect(s.store.current()).toBe(1);
  });

  it('a version file already there is never overwritten: COMMIT_CONFLICT naming it, no temporary left', async () => {
    const s = await atVersion2();
    const file = path.join(s.manifests, 'v000003.json');
    fs.writeFileSync(file, 'not ours');
    const before = files(s.dir);
    const e = await refused(s.store.commit(s.next, expecting(), 50, s.previous));
    expect([e.code, e.message]).toEqual(['COMMIT_CONFLICT', why(3, `${file} already exists`)]);
    expect(fs.readFileSync(file, 'utf8')).toBe('not ours');
    expect(files(s.dir)).toEqual(before);
    expect(s.store.current()).toBe(2);
  });

  it('a collection folder removed meanwhile is not re-created: ROOT_IO_ERROR from making its manifests folder', async () => {
    const s = await atVersion2();
    fs.rmSync(s.dir, { recursive: true });
    const e = await refused(s.store.commit(s.next, expecting(), 50, s.previous));
    expect(e.code).toBe('ROOT_IO_ERROR');
    expect(e.message.startsWith(`cannot write ${path.join(s.manifests, 'v000003.json')} in the metadata root ${s.root}: ENOENT`)).toBe(true);
    expect(e.message).toMatch(/mkdir '.*\/default\/c\/manifests'$/);
    expect(fs.existsSync(s.dir)).toBe(false);
  });
});

describe('a commit that stands', () => {
  it('flips CURRENT, keeps the newest `keep` versions and prunes the chunks only the dropped ones used', async () => {
    const s = await atVersion2();
    const chunkFiles = () => new Set(fs.readdirSync(path.join(s.dir, 'chunks')));
    const chunksBefore = chunkFiles();
    await s.store.commit(s.next, expecting(), 1, s.previous);
    expect(s.store.current()).toBe(3);
    expect(s.store.onDisk()).toEqual([3]);
    expect(s.store.read(3)).toEqual(s.next);
    const chunksAfter = chunkFiles();
    const gone = [...chunksBefore].filter((n) => !chunksAfter.has(n));
    expect(gone.length).toBeGreaterThan(0); // chunks of versions 1 and 2 that version 3 does not use
    expect(files(s.dir).filter((n) => path.basename(n).startsWith('.tmp-'))).toEqual([]);
  });
});

describe('repair steps', () => {
  it('setPointer(0) removes CURRENT, also when it is already gone; quarantine renames a version aside as .corrupt-vNNNNNN-<hex>.json', async () => {
    const s = await atVersion2();
    s.store.setPointer(0);
    expect(fs.existsSync(s.current)).toBe(false);
    s.store.setPointer(0);
    expect(s.store.named()).toBeUndefined();
    s.store.setPointer(1);
    expect(JSON.parse(fs.readFileSync(s.current, 'utf8'))).toEqual({ version: 1 });
    const text = fs.readFileSync(s.store.file(2), 'utf8');
    const aside = s.store.quarantine(2);
    expect(path.dirname(aside)).toBe(s.manifests);
    expect(path.basename(aside)).toMatch(/^\.corrupt-v000002-[0-9a-f]{8}\.json$/);
    expect(fs.readFileSync(aside, 'utf8')).toBe(text);
    expect(s.store.onDisk()).toEqual([1]);
  });
});
