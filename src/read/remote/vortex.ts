/**
 * Reads a row range of a Vortex object with the same decoder as local files: the footer from the
 * tail (and the 4-byte leading magic) in one round of GETs, a second only for footer segments outside
 * the tail; then per batch exactly the segments its columns read ({@link VortexSegmentPlan}), fetched
 * before it is decoded, the next batch's while the current one is decoded.
 */
import type { RecordBatch } from 'apache-arrow';
import { readPostscript } from '../../../scanners/vortex/postscript.js';
import { readTrailer } from '../../../scanners/vortex/trailer.js';
import { readVortexMeta, VORTEX_TAIL_BYTES, type VortexFileMeta } from '../vortex/meta.js';
import { guard, readVortexRange, vortexCuts, type VortexRangeRequest } from '../vortex/reader.js';
import { VortexSegmentPlan } from '../vortex/segment-plan.js';
import { checkRead } from '../source-file.js';
import type { ByteRange, ObjectFile } from './object-file.js';
import { fetchAhead } from './pipeline.js';

/**
 * The tail fetched first: the local reader's tail plus the 8-byte end-of-file marker, so the
 * postscript (at most 65,535 bytes before the marker) always lies inside it.
 */
const REMOTE_TAIL_BYTES = VORTEX_TAIL_BYTES + 8;

/** The footer of a Vortex object: the tail and the leading magic, then any footer segment before the tail. */
export async function loadVortexMeta(file: ObjectFile): Promise<VortexFileMeta> {
  const path = file.rel;
  const n = Math.min(file.size, REMOTE_TAIL_BYTES);
  const tailStart = file.size - n;
  const first: ByteRange[] = [[tailStart, file.size]];
  if (tailStart > 0) first.push([0, Math.min(4, file.size)]); // the leading magic
  const pieces = await file.fetch(first, 'the Vortex footer');
  file.hold(pieces);
  // the piece ending at the end of the file (the magic's GET may have been merged into it)
  const tail = pieces.find((p) => p.start + p.bytes.length === file.size)!;
  try {
    // The footer segments before the tail, as the trailer and postscript (inside the tail) place them.
    const before = guard(path, 'the footer', () => {
      const trailer = readTrailer(path, file.size, file.read(tailStart, n, 'the Vortex footer'));
      const post = readPostscript(path, file.read(trailer.postscriptOffset, trailer.postscriptLength, 'the postscript'), trailer.postscriptOffset);
      return [post.dtype, post.footer, post.layout].flatMap((s) => (s && s.offset < tail.start ? [s.offset] : []));
    });
    if (before.length > 0) {
      // One piece from the first such byte to the end, so a segment spanning the tail's start is one read.
      const start = Math.min(...before);
      checkRead(file, start, file.size - start, 'the Vortex footer'); // the joined piece, before any request
      const [head] = await file.fetch([[start, tail.start]], 'the Vortex footer');
      const joined = new Uint8Array(file.size - start);
      joined.set(head!.bytes, 0);
      joined.set(tail.bytes, tail.start - start);
      file.drop([head!]);
      const piece = { start, bytes: joined };
      pieces.push(piece);
      file.hold([piece]);
    }
    return guard(path, 'the footer', () => readVortexMeta(file));
  } finally {
    file.drop(pieces);
  }
}

/** Yields the batches of `req` from a Vortex object. */
export async function* readVortexObject(file: ObjectFile, req: VortexRangeRequest): AsyncGenerator<RecordBatch> {
  const meta = await loadVortexMeta(file);
  const cuts = vortexCuts(file.rel, meta, req);
  const plan = new VortexSegmentPlan(meta, req.columns);
  const ranges = cuts.map(([from, to]) => guard(file.rel, 'the layout', () => plan.next(from, to)));
  const steps = cuts.map(([from, to], i) => ({ ranges: ranges[i]!, what: `the segments of rows [${from}, ${to})` }));
  yield* fetchAhead(file, steps, readVortexRange(file, req, meta), req.signal);
}
