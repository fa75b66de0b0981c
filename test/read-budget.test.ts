// ReadBudget at its edges (issue 15, mutation testing): a read of exactly the whole budget is allowed
// (it waits for the others), one byte more is refused before anything is allocated, naming the file.
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/errors.js';
import { ReadBudget } from '../src/scan/budget.js';

describe('ReadBudget limits', () => {
  it('admits a read of exactly the whole budget and refuses one byte more, naming the file', async () => {
    const budget = new ReadBudget(64 * 1024);
    const release = await budget.acquire(64 * 1024, 'big.parquet');
    expect(budget.inFlight).toBe(64 * 1024);
    release();
    expect(budget.inFlight).toBe(0);
    const e = await budget.acquire(64 * 1024 + 1, 'huge.parquet').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(LakemapError.is(e, 'CORRUPT_FILE')).toBe(true);
    expect((e as LakemapError).path).toBe('huge.parquet');
    expect((e as LakemapError).message).toContain('huge.parquet: claims a 65537-byte read');
    expect(budget.inFlight).toBe(0);
  });

  it('a read that fills the budget waits for the one in flight, then runs', async () => {
    const budget = new ReadBudget(64 * 1024);
    const first = await budget.acquire(10 * 1024, 'a');
    let started = false;
    const second = budget.acquire(64 * 1024, 'b').then((r) => {
      started = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 80));
    expect(started).toBe(false);
    first();
    const release = await second;
    expect(budget.inFlight).toBe(64 * 1024);
    release();
    release(); // idempotent
    expect(budget.inFlight).toBe(0);
  });
});
