// The real-world corpus beside the checkout (../shared/corpus). Conformance tests never pass without it:
// when a folder is missing, they register one failing test that names the path, instead of skipping.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'vitest';

/** Absolute path of `../shared/corpus/<sub>` beside this checkout. */
export function corpusPath(sub: string): string {
  return path.resolve(import.meta.dirname, '../../../shared/corpus', sub);
}

/**
 * `describe(name, body)` when the corpus folder `sub` exists; otherwise a suite with one failing test
 * naming the missing folder, so a checkout without the corpus cannot look green.
 */
export function describeWithCorpus(sub: string, name: string, body: (dir: string) => void): void {
  const dir = corpusPath(sub);
  if (fs.existsSync(dir)) {
    describe(name, () => body(dir));
    return;
  }
  describe(name, () => {
    it(`needs the corpus at ${dir}`, () => {
      throw new Error(`corpus folder ${dir} is missing: conformance cannot be checked (see README, real-world corpus)`);
    });
  });
}
