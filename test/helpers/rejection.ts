// The LakemapError a promise rejects with; the test fails when it resolves or rejects with anything else.
import { expect } from 'vitest';
import { LakemapError } from '../../src/errors.js';

export async function rejection(p: Promise<unknown>): Promise<LakemapError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(LakemapError.is(e), `expected a LakemapError, got ${String(e)}`).toBe(true);
  return e as LakemapError;
}
