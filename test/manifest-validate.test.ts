// manifestProblems() on a manifest the engine really wrote (three .jsonl files, two units each, several
// segments), damaged one field at a time: each check must name its problem, and a sound manifest none.
// Written for the mutants of src/manifest/validate.ts that survived the rest of the suite (issue 15).
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { manifestProblems } from '../src/manifest/validate.js';
import { tempDir, writeJsonl } from './helpers/tmp.js';

let sound: any;

// Per test, not in beforeAll: engine code run from a beforeAll makes its mutants "static" for Stryker
// (every mutant rerun with the whole suite). A refresh of three 4-line files is cheap.
beforeEach(async () => {
  const lake = tempDir();
  for (let i = 0; i < 3; i++) writeJsonl(path.join(lake, `part-${i}.jsonl`), 4, i * 4);
  const engine = new RefreshEngine({ root: tempDir(), scanners: [jsonlScanner], workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'jsonl', lines_per_unit: 2, segment_max_rows: 2 } });
  const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
  expect((await engine.waitForRefresh(jobId)).state).toBe('RefreshCompleted');
  sound = JSON.parse(JSON.stringify(await engine.getManifest({ collectionName: 'c' })));
  await engine.close();
});

/** A deep copy of the sound manifest, changed by `edit`. */
function damaged(edit: (m: any) => void): any {
  const m = structuredClone(sound);
  edit(m);
  return m;
}

describe('manifestProblems on a real manifest', () => {
  it('finds nothing wrong with what the engine wrote, at its own version', () => {
    expect(sound.files).toHaveLength(3);
    expect(sound.files[0].units).toHaveLength(2);
    expect(sound.segments).toHaveLength(6);
    expect(manifestProblems(sound)).toEqual([]);
    expect(manifestProblems(sound, sound.version)).toEqual([]);
    expect(manifestProblems(damaged((m) => (m.files[0].mtimeMs = 0)))).toEqual([]);
  });

  it('refuses what is not an object', () => {
    for (const v of [null, 3, 'x', [sound]]) expect(manifestProblems(v)).toEqual(['not a JSON object']);
  });

  it('checks the header fields one by one', () => {
    expect(manifestProblems(damaged((m) => (m.manifestFormat = 2)))).toEqual(['manifestFormat is 2, expected 1']);
    expect(manifestProblems(damaged((m) => (m.version = 0)))).toEqual(['version 0 is not a positive integer']);
    expect(manifestProblems(damaged((m) => (m.version = 1.5)))).toEqual(['version 1.5 is not a positive integer']);
    expect(manifestProblems(sound, sound.version + 1)).toEqual([`holds version ${sound.version}, expected ${sound.version + 1}`]);
    for (const k of ['collectionName', 'dbName', 'format', 'externalSource', 'resolvedSource', 'jobId', 'tableVersion', 'contentHash']) {
      expect(manifestProblems(damaged((m) => (m[k] = 1)))).toEqual([`${k} is not a string`]);
    }
    expect(manifestProblems(damaged((m) => (m.externalSpec = 'jsonl')))).toEqual(['externalSpec is not a spec object']);
    expect(manifestProblems(damaged((m) => delete m.externalSpec.format))).toEqual(['externalSpec is not a spec object']);
    expect(manifestProblems(damaged((m) => (m.schema = null)))).toEqual(['schema is malformed']);
    expect(manifestProblems(damaged((m) => (m.schema.fields = {})))).toEqual(['schema is malformed']);
    expect(manifestProblems(damaged((m) => (m.schema.arrowIpc = 1)))).toEqual(['schema is malformed']);
    for (const k of ['fields', 'fileSchemas', 'warnings', 'files', 'segments', 'skipped']) {
      expect(manifestProblems(damaged((m) => (m[k] = {})))).toEqual([`${k} is not a list`]);
    }
    for (const k of ['totalRows', 'physicalRows', 'createdAt']) {
      expect(manifestProblems(damaged((m) => (m[k] = -1)))).toEqual([`${k} -1 is not a non-negative integer`]);
      expect(manifestProblems(damaged((m) => (m[k] = 2 ** 53)))).toEqual([`${k} ${2 ** 53} is not a non-negative integer`]);
    }
  });

  it('checks each file entry', () => {
    const p = sound.files[1].path;
    const at = `files[1] (${p})`;
    for (const edit of [(f: any) => delete f.path, (f: any) => (f.path = ''), (f: any) => (f.fingerprint = 7)]) {
      // the entry is skipped, so the totals no longer add up either
      expect(manifestProblems(damaged((m) => edit(m.files[1])))).toEqual([
        'files[1] lacks a path or fingerprint',
        "totalRows 12 is not the sum of the files' live rows (8)",
        "physicalRows 12 is not the sum of the files' rows (8)",
      ]);
    }
    expect(manifestProblems(damaged((m) => (m.files[1] = []))).at(0)).toBe('files[1] lacks a path or fingerprint');
    expect(manifestProblems(damaged((m) => (m.files[1].mtimeMs = -1)))).toEqual([`${at}: mtimeMs is not a time`]);
    expect(manifestProblems(damaged((m) => (m.files[1].mtimeMs = '1')))).toEqual([`${at}: mtimeMs is not a time`]);
    expect(manifestProblems(damaged((m) => (m.files[1].mtimeMs = Infinity)))).toEqual([`${at}: mtimeMs is not a time`]);
    expect(manifestProblems(damaged((m) => (m.files[1].sizeBytes = -3)))).toEqual([`${at}: sizeBytes -3 is not a non-negative integer`]);
    // a bad row count is reported as such, not also as fewer rows than live rows
    const badRows = manifestProblems(damaged((m) => (m.files[1].rows = -1)));
    expect(badRows[0]).toBe(`${at}: rows -1 is not a non-negative integer`);
    expect(badRows.join('\n')).not.toContain('exceed');
    expect(manifestProblems(damaged((m) => ((m.files[1].liveRows = 5), (m.totalRows += 1))))).toEqual([`${at}: liveRows 5 exceed rows 4`]);
    // fewer live rows than rows is sound (deletes), as long as the totals follow
    expect(manifestProblems(damaged((m) => ((m.files[1].liveRows = 3), (m.totalRows -= 1))))).toEqual([]);
    expect(manifestProblems(damaged((m) => (m.files[1].units = {}))).at(0)).toBe(`${at}: units is not a list`);
    expect(manifestProblems(damaged((m) => (m.files[1].units[1].rowOffset = 1)))).toContain(`${at}: unit 1 is malformed or not at row 2`);
    expect(manifestProblems(damaged((m) => (m.files[1].units[0].byteSize = -1)))).toContain(`${at}: unit 0 is malformed or not at row 0`);
    expect(manifestProblems(damaged((m) => (m.files[1].units[1] = null)))).toContain(`${at}: unit 1 is malformed or not at row 2`);
    expect(manifestProblems(damaged((m) => m.files[1].units.pop()))).toEqual([`${at}: units hold 2 rows, the file 4`]);
  });

  it('checks that the totals add up', () => {
    expect(manifestProblems(damaged((m) => (m.totalRows += 1)))).toEqual([`totalRows ${sound.totalRows + 1} is not the sum of the files' live rows (12)`]);
    expect(manifestProblems(damaged((m) => (m.physicalRows -= 1)))).toEqual([`physicalRows ${sound.physicalRows - 1} is not the sum of the files' rows (12)`]);
  });

  it('finds a file listed twice', () => {
    const m = damaged((m) => {
      m.files.push(structuredClone(m.files[0]));
      m.totalRows += 4;
      m.physicalRows += 4;
    });
    expect(manifestProblems(m)).toEqual([`files[3]: ${sound.files[0].path} is listed twice`]);
  });

  it('checks the segments: shape, ids, ranges and exact cover of each file', () => {
    const seg = (m: any, path: string) => m.segments.filter((s: any) => s.ranges[0].path === path);
    const p = sound.files[0].path;
    const malformed = [
      (s: any) => (s.rows = 0),
      (s: any) => (s.id = 3),
      (s: any) => s.ranges.push(s.ranges[0]),
      (s: any) => (s.ranges = {}),
      (s: any) => (s.ranges[0].path = 'elsewhere.jsonl'),
      (s: any) => (s.ranges[0].rowOffset = -2),
      (s: any) => (s.ranges[0].rows = 1),
      (s: any) => (s.rows = s.ranges[0].rows = 0),
    ];
    expect(manifestProblems(damaged((m) => (m.segments[0] = null))).at(0)).toBe('segments[0] is malformed or names no file of the manifest');
    expect(manifestProblems(damaged((m) => (m.segments[0].ranges = [null]))).at(0)).toBe('segments[0] is malformed or names no file of the manifest');
    for (const edit of malformed) {
      const problems = manifestProblems(damaged((m) => edit(m.segments[0])));
      expect(problems[0]).toBe('segments[0] is malformed or names no file of the manifest');
    }
    expect(manifestProblems(damaged((m) => (m.segments[1].id = m.segments[0].id)))).toEqual([`segments[1]: id ${sound.segments[0].id} repeats`]);
    const beyond = manifestProblems(
      damaged((m) => {
        const last = seg(m, p).find((s: any) => s.ranges[0].rowOffset === 2);
        last.ranges[0].rows = last.rows = 3;
      }),
    );
    expect(beyond).toContain(`segments[${sound.segments.findIndex((s: any) => s.ranges[0].path === p && s.ranges[0].rowOffset === 2)}] (${p}): rows 2..5 lie beyond the file's 4`);
    expect(
      manifestProblems(
        damaged((m) => {
          const second = seg(m, p).find((s: any) => s.ranges[0].rowOffset === 2);
          second.ranges[0].rowOffset = 1;
        }),
      ),
    ).toEqual([`segments of ${p} overlap at row 1`]);
    expect(
      manifestProblems(
        damaged((m) => {
          const first = seg(m, p).find((s: any) => s.ranges[0].rowOffset === 0);
          first.ranges[0].rows = first.rows = 1;
        }),
      ),
    ).toEqual([`segments of ${p} leave a gap at row 1`]);
    expect(manifestProblems(damaged((m) => (m.segments = m.segments.filter((s: any) => !(s.ranges[0].path === p && s.ranges[0].rowOffset === 2)))))).toEqual([
      `segments of ${p} cover 2 of its 4 rows`,
    ]);
    expect(manifestProblems(damaged((m) => (m.segments = m.segments.filter((s: any) => s.ranges[0].path !== p))))).toEqual([`segments of ${p} cover 0 of its 4 rows`]);
  });

  it('does not depend on the order of the segments', () => {
    expect(manifestProblems(damaged((m) => m.segments.reverse()))).toEqual([]);
  });

  it('stops at 20 problems', () => {
    const uncovered = damaged((m) => {
      for (let i = 0; i < 25; i++) m.files.push({ ...structuredClone(m.files[0]), path: `copy-${i}.jsonl` });
      m.totalRows += 100;
      m.physicalRows += 100;
    });
    expect(manifestProblems(uncovered)).toHaveLength(20);
    expect(manifestProblems(uncovered)[0]).toBe('segments of copy-0.jsonl cover 0 of its 4 rows');
    const many = damaged((m) => {
      for (let i = 0; i < 30; i++) m.files.push({ path: '' });
    });
    expect(manifestProblems(many)).toHaveLength(20);
    const manyHeaders = damaged((m) => {
      for (const k of ['collectionName', 'dbName', 'format', 'externalSource', 'resolvedSource', 'jobId', 'tableVersion', 'contentHash']) m[k] = 0;
      for (const k of ['fields', 'fileSchemas', 'warnings', 'files', 'segments', 'skipped']) m[k] = 0;
      for (const k of ['totalRows', 'physicalRows', 'createdAt']) m[k] = -1;
      m.manifestFormat = 0;
      m.version = 0;
      m.schema = 0;
      m.externalSpec = 0;
    });
    expect(manifestProblems(manyHeaders)).toHaveLength(21);
  });
});
