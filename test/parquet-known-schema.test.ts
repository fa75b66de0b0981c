// The parquet footer decoder skips a schema list whose bytes repeat the previous file's (issue 10:
// decode only what the manifest needs). The result must be exactly what a full walk gives.
import { describe, expect, it } from 'vitest';
import { decodeFileMetaData } from '../scanners/parquet/metadata.js';
import { T, encodeFooter, footerForSchema } from '../fixtures/parquet/synthetic-footer.js';

const one = encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 7));
const two = encodeFooter(
  footerForSchema([{ name: 'schema', numChildren: 2 }, { name: 'id', type: T.I64, repetition: 0 }, { name: 'v', type: T.DOUBLE, repetition: 1 }], 9),
);
const schemaOf = (b: Uint8Array): Uint8Array => {
  const m = decodeFileMetaData(b, 0, b.length);
  return b.slice(m.schemaStart, m.schemaEnd);
};

describe('decodeFileMetaData with a known schema list', () => {
  it('gives what a full walk gives, whether the known bytes match or not', () => {
    for (const footer of [one, two]) {
      const full = decodeFileMetaData(footer, 0, footer.length);
      for (const known of [schemaOf(one), schemaOf(two), new Uint8Array(0), new Uint8Array(5000)]) {
        expect(decodeFileMetaData(footer, 0, footer.length, known)).toEqual(full);
      }
    }
    expect(decodeFileMetaData(two, 0, two.length).schemaEnd - decodeFileMetaData(two, 0, two.length).schemaStart).toBe(schemaOf(two).length);
  });

  it('a footer cut inside its schema still fails, as without the hint', () => {
    const known = schemaOf(two);
    const m = decodeFileMetaData(two, 0, two.length);
    const cut = two.slice(0, m.schemaEnd - 3);
    expect(() => decodeFileMetaData(cut, 0, cut.length)).toThrow();
    expect(() => decodeFileMetaData(cut, 0, cut.length, known)).toThrow();
  });
});
