// Bounds of the footer decoder's shortcuts (issue 15: mutants of scanners/parquet/metadata.ts that the
// rest of the suite let survive): a remembered schema list is taken only when it lies inside the footer,
// and a schema element source never reads past the count it announced.
import { describe, expect, it } from 'vitest';
import { T, encodeFooter, footerForSchema } from '../fixtures/parquet/synthetic-footer.js';
import { decodeFileMetaData, decodeSchemaElements, schemaElementSource } from '../scanners/parquet/metadata.js';

const footer = encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 7));

describe('the footer decoder stays inside its bytes', () => {
  it('a known schema that matches only by running past the footer end is not taken', () => {
    // The footer followed by other bytes (as in a file: the footer length and PAR1), decoded up to its end.
    const bytes = new Uint8Array([...footer, 0x10, 0x20, 0x30, 0x40, 0x50, 0x41, 0x52, 0x31]);
    const full = decodeFileMetaData(footer, 0, footer.length);
    // The schema list, the rest of the footer and four bytes beyond it: equal bytes, but not inside [start, end).
    const known = bytes.slice(full.schemaStart, footer.length + 4);
    expect(decodeFileMetaData(bytes, 0, footer.length, known)).toEqual(full);
  });

  it('a schema element source refuses to read past the count it announced', () => {
    const meta = decodeFileMetaData(footer, 0, footer.length);
    const src = schemaElementSource(footer, meta.schemaStart, footer.length);
    expect(src.count).toBe(2);
    expect([src.next().name, src.next().name]).toEqual(['schema', 'id']);
    expect(() => src.next()).toThrow(/read past the end of the schema list/);
    expect(decodeSchemaElements(footer, meta.schemaStart, footer.length).map((e) => e.name)).toEqual(['schema', 'id']);
  });
});
