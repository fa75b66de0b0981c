// What `repairCollection` reports about a collection's pointer: a missing CURRENT is a finding only when
// version files exist, and a new collection (neither) needs no action. From the directory-wide mutation sample
// (docs/testing.md): `repair.ts`'s "CURRENT is missing" line survived every suite.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withVersions } from './helpers/engine-kit.js';

describe('repair and CURRENT', () => {
  it('a CURRENT removed beside intact versions is reported missing by its path and re-pointed at the newest', async () => {
    const s = await withVersions(2);
    fs.rmSync(s.current);
    const report = await s.engine.repairCollection({ collectionName: 'c' });
    expect(report.found).toEqual([`${s.current} is missing`]);
    expect(report.actions).toEqual(['pointed CURRENT at version 2']);
    expect(report.version).toBe(2);
    expect(JSON.parse(fs.readFileSync(s.current, 'utf8')).version).toBe(2);
  });

  it('a collection never refreshed has no CURRENT and nothing to report', async () => {
    const s = await withVersions(0);
    expect(fs.existsSync(s.current)).toBe(false);
    const report = await s.engine.repairCollection({ collectionName: 'c' });
    expect(report).toMatchObject({ found: [], actions: [], versionFiles: [], version: 0 });
    expect(fs.existsSync(s.current)).toBe(false);
  });

  it('a garbled CURRENT with no version to point at is removed, and said so', async () => {
    const s = await withVersions(0);
    fs.writeFileSync(s.current, 'garbage');
    const report = await s.engine.repairCollection({ collectionName: 'c' });
    expect(report.found).toEqual([`${s.current} is not valid JSON`]);
    expect(report.actions).toEqual(['removed CURRENT: no version file is intact, the next refresh starts at version 1']);
    expect(fs.existsSync(s.current)).toBe(false);
  });
});
