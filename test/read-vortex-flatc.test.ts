// The array flatbuffer at the end of every flat layout segment, read by an independent reader: `flatc`
// (Debian's flatbuffers-compiler) generates TypeScript from our own schema (fixtures/vortex/array-schema.fbs)
// at test time. Segments of the fixture writer's files and of the real Vortex files of the corpus are
// read with it and compared with what lakemap's segment parser finds: encodings, metadata, buffer
// indexes and lengths, node by node.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFlatc, loadFlatcReader } from './helpers/flatc.js';
import { dictArray, primitiveArray, structArray, varBinArray, varBinViewArray } from '../fixtures/vortex/arrays.js';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { PType } from '../fixtures/vortex/flatbuffers.js';
import { readFooter } from '../scanners/vortex/footer.js';
import { readPostscript } from '../scanners/vortex/postscript.js';
import { readTrailer } from '../scanners/vortex/trailer.js';
import { parseArraySegment, type ArrayNode } from '../src/read/vortex/array-segment.js';

if (!hasFlatc) console.warn('flatc missing (Debian package flatbuffers-compiler): the independent flatc-generated Vortex array reader is NOT run');

const schemaFile = path.resolve(import.meta.dirname, '../fixtures/vortex/array-schema.fbs');
const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/vortex/stable');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-flatc-array-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any */
let vxa: any;
let ByteBuffer: any;

beforeAll(async () => {
  if (!hasFlatc) return;
  ({ module: vxa, ByteBuffer } = await loadFlatcReader(schemaFile, tmp));
});

interface Node { encoding: string; metadata: string; buffers: number[]; children: Node[] }

/** One segment read with the flatc classes: the node tree, buffer lengths resolved through the descriptors. */
function readWithFlatc(segment: Uint8Array, encodings: string[]): Node {
  const fbLength = new DataView(segment.buffer, segment.byteOffset).getUint32(segment.length - 4, true);
  const fb = segment.slice(segment.length - 4 - fbLength, segment.length - 4);
  const array = vxa.Array.getRootAsArray(new ByteBuffer(fb));
  const lengths = Array.from({ length: array.buffersLength() }, (_, i) => array.buffers(i).length());
  const node = (n: any): Node => ({
    encoding: encodings[n.encoding()]!,
    metadata: Buffer.from(n.metadataArray() ?? []).toString('hex'),
    buffers: Array.from({ length: n.buffersLength() }, (_, i) => lengths[n.buffers(i)]!),
    children: Array.from({ length: n.childrenLength() }, (_, i) => node(n.children(i))),
  });
  return node(array.root());
}

function fromParser(n: ArrayNode): Node {
  return { encoding: n.encoding, metadata: Buffer.from(n.metadata).toString('hex'), buffers: n.buffers.map((b) => b.length), children: n.children.map(fromParser) };
}

/** Every data segment of a file: flatc's reading equals the parser's. */
function compareFile(bytes: Uint8Array): Node[] {
  const tr = readTrailer('f', bytes.length, bytes);
  const ps = readPostscript('f', bytes.subarray(tr.postscriptOffset, tr.postscriptOffset + tr.postscriptLength), tr.postscriptOffset);
  const footer = readFooter('f', bytes.subarray(ps.footer.offset, ps.footer.offset + ps.footer.length), tr.postscriptOffset);
  return footer.segments.map((s) => {
    const segment = bytes.subarray(s.offset, s.offset + s.length);
    const flatc = readWithFlatc(segment, footer.arrayEncodings);
    expect(fromParser(parseArraySegment('f', segment, new Uint8Array(0), footer.arrayEncodings))).toEqual(flatc);
    return flatc;
  });
}

describe.skipIf(!hasFlatc)('Vortex array segments read by a flatc-generated reader (needs flatc)', () => {
  it('the fixture writer: nested trees with metadata, several buffers and validity children', () => {
    const file = writeVortexFile({
      dtype: { kind: 'struct', fields: [['s', { kind: 'struct', fields: [['a', { kind: 'primitive', ptype: PType.I16, nullable: true }], ['b', { kind: 'utf8' }]] }], ['d', { kind: 'binary', nullable: true }]] },
      layout: {
        id: 'vortex.struct', rows: 3, children: [
          { id: 'vortex.flat', rows: 3, array: structArray([primitiveArray('I16', [1, null, 3]), varBinViewArray(['x', 'a string over twelve', 'y'], 2)]) },
          { id: 'vortex.flat', rows: 3, array: dictArray(primitiveArray('U8', [0, 1, 0]), 'U8', varBinArray(['p', null]), 2) },
        ],
      },
    });
    const trees = compareFile(file.bytes);
    expect(trees[0]).toEqual({
      encoding: 'vortex.struct', metadata: '', buffers: [], children: [
        { encoding: 'vortex.primitive', metadata: '', buffers: [6], children: [{ encoding: 'vortex.bool', metadata: '', buffers: [1], children: [] }] },
        { encoding: 'vortex.varbinview', metadata: '', buffers: [0, 20, 48], children: [] },
      ],
    });
    expect(trees[1]!.children.map((c) => c.encoding)).toEqual(['vortex.primitive', 'vortex.varbin']);
    expect(trees[1]!.metadata).toBe('08021000'); // DictMetadata { values_len: 2, codes_ptype: U8 }
  });

  for (const name of ['int32-flat-0.74.vortex', 'struct-five-0.70.vortex']) {
    it(`real file ${name}: the parser reads every segment as flatc does`, () => {
      const trees = compareFile(new Uint8Array(fs.readFileSync(path.join(corpus, name))));
      expect(trees.length).toBeGreaterThan(0);
      expect(trees.map((t) => t.encoding)).toContain(name.startsWith('int32') ? 'vortex.primitive' : 'vortex.sequence');
    });
  }
});
