/**
 * The fetch-ahead loop shared by the remote readers: each step's byte ranges are fetched before the
 * synchronous decoder yields that step's batch, and the next step's while it decodes, so at most two
 * steps' bytes are held. The decoder must yield exactly one batch per planned step; anything else is a
 * lakemap bug (`INTERNAL`), never a silent extra request.
 */
import type { RecordBatch } from 'apache-arrow';
import { LakemapError } from '../../errors.js';
import type { ByteRange, ObjectFile, Piece } from './object-file.js';

/** One planned step: the ranges its batch reads, and how errors name it. */
export interface PlannedStep {
  ranges: ByteRange[];
  what: string;
}

/** Yields `batches`, one per step, with each step's ranges fetched (and the next prefetched) first. */
export async function* fetchAhead(file: ObjectFile, steps: readonly PlannedStep[], batches: Iterator<RecordBatch>, signal: AbortSignal | undefined): AsyncGenerator<RecordBatch> {
  const fetchStep = (i: number): Promise<Piece[]> => {
    const p = file.fetch(steps[i]!.ranges, steps[i]!.what);
    p.catch(() => undefined); // a prefetch the caller abandons must not become an unhandled rejection
    return p;
  };
  let next = steps.length > 0 ? fetchStep(0) : undefined;
  for (let i = 0; i < steps.length; i++) {
    const pieces = await cancellable(file.rel, next!, signal);
    next = i + 1 < steps.length ? fetchStep(i + 1) : undefined;
    file.hold(pieces);
    let r: IteratorResult<RecordBatch>;
    try {
      r = batches.next();
    } finally {
      file.drop(pieces);
    }
    if (r.done) throw new LakemapError('INTERNAL', `${file.rel}: ${steps[i]!.what} was planned but the decoder yielded no batch for it`, { path: file.rel });
    yield r.value;
  }
  if (!batches.next().done) throw new LakemapError('INTERNAL', `${file.rel}: the decoder yielded more batches than were planned`, { path: file.rel });
}

/** Awaits a fetch; when the read's signal aborted it (the request policy cancels in-flight GETs), says the read was cancelled. */
export async function cancellable<T>(rel: string, p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (signal?.aborted) throw new LakemapError('CANCELLED', `reading ${rel} was cancelled`, { path: rel, cause: e });
    throw e;
  }
}
