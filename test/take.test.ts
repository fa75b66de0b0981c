// takeRuns (src/read/take.ts) against Arrow's own row access: for each type it builds, the rows of the
// runs, taken from whole and from sliced data (a nonzero offset), read back equal to the rows picked
// one by one, nulls included.
import {
  Binary, Bool, DateDay, Decimal, Dictionary, Field, FixedSizeBinary, FixedSizeList, Float64, Int32, Int64, List, Map_, Struct,
  TimestampMicrosecond, Utf8, makeVector, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { takeRuns, takeable, type Runs } from '../src/read/take.js';
import { liveRuns } from '../src/read/live-rows.js';

const N = 40;
const nul = (i: number): boolean => i % 7 === 2;
const canon = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? [...x] : x));

function column(type: DataType, value: (i: number) => unknown): Vector {
  return vectorFromArray(Array.from({ length: N }, (_, i) => (nul(i) ? null : value(i))), type);
}

const COLUMNS: [string, () => Vector][] = [
  ['int32', () => column(new Int32(), (i) => i * 3 - 50)],
  ['int64', () => column(new Int64(), (i) => BigInt(i) * 1_000_000_007n)],
  ['float64', () => column(new Float64(), (i) => i / 8)],
  ['bool', () => column(new Bool(), (i) => i % 3 === 0)],
  ['utf8', () => column(new Utf8(), (i) => 'x'.repeat(i % 5) + String(i))],
  ['binary', () => column(new Binary(), (i) => Uint8Array.from({ length: i % 4 }, (_, k) => i + k))],
  ['fixed binary', () => column(new FixedSizeBinary(3), (i) => Uint8Array.of(i, i + 1, i + 2))],
  ['decimal', () => column(new Decimal(2, 20, 128), (i) => Uint32Array.of(i, 0, 0, 0))],
  ['date', () => column(new DateDay(), (i) => new Date(Date.UTC(2020, 0, 1 + i)))],
  ['timestamp', () => column(new TimestampMicrosecond(), (i) => i * 1000)],
  ['list', () => column(new List(new Field('item', new Int32(), true)), (i) => Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : i + k)))],
  ['fixed list', () => column(new FixedSizeList(2, new Field('item', new Float64(), true)), (i) => [i, i % 3 === 0 ? null : -i])],
  ['struct', () => column(new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), (i) => ({ a: i, b: i % 4 === 0 ? null : `s${i}` }))],
  ['map', () => column(new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false)), (i) => new Map([[`k${i}`, i], [`j${i}`, null]]))],
  ['dictionary', () => column(new Dictionary(new Utf8(), new Int32()), (i) => ['red', 'green', 'blue'][i % 3])],
];

/** Live rows: not every 5th, not 11..16, not the last. */
const deleted = (i: number, n: number): boolean => i % 5 === 0 || (i >= 11 && i <= 16) || i === n - 1;

describe('takeRuns', () => {
  for (const [name, make] of COLUMNS) {
    it(`${name}: the rows of the runs, from whole and from sliced data`, () => {
      const whole = make();
      expect(takeable(whole.type)).toBe(true);
      for (const v of [whole, whole.slice(3, 37)]) {
        const runs: Runs = liveRuns(v.length, (i) => deleted(i, v.length));
        expect(runs.count).toBeGreaterThan(3);
        const kept = Array.from({ length: v.length }, (_, i) => i).filter((i) => !deleted(i, v.length));
        const taken = makeVector(takeRuns(v.data[0]!, runs));
        expect(taken.length).toBe(kept.length);
        expect(taken.nullCount).toBe(kept.filter((i) => v.get(i) === null).length);
        expect(Array.from({ length: taken.length }, (_, k) => canon(taken.get(k)))).toEqual(kept.map((i) => canon(v.get(i))));
      }
    });
  }
});
