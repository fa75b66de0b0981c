/**
 * The first stage of a split probe ({@link FileScanner.split}), as probe workers run it: reads a file's
 * tail, fingerprints it and has the scanner's {@link FileDecoder} decode it into plain data. Nothing
 * here loads Apache Arrow; the engine's thread finishes each file (`Prober.finishDecoded`).
 *
 * @module
 */
import { fileFingerprint } from '../manifest/segments.js';
import type { LocalStorage } from '../storage/local.js';
import type { FileDecoder, ScanContext } from '../scanner.js';
import type { LakemapError } from '../errors.js';
import { readBudget } from './budget.js';
import { DEFAULT_TAIL_BYTES, asLakemapError, deepFingerprint, isPromise, trackedProbeFile } from './probe-util.js';

/** What the first stage found in one file. */
export interface DecodedFile {
  size: number;
  mtimeMs: number;
  /** The fingerprint the engine's thread would derive from the same bytes. */
  fingerprint: string;
  /** What the scanner's decoder returned. */
  decoded: unknown;
}

/** One file's first stage: its decoded data, or the error that the file gave. */
export type DecodeOutcome = { ok: true; value: DecodedFile } | { ok: false; error: LakemapError };

/**
 * Decodes files one by one on a local storage, reusing one tail buffer while decodes are
 * synchronous; reads past the tail wait for the thread's {@link readBudget}. Never throws or rejects.
 */
export class LeanProber {
  private scratch: Uint8Array;
  private readonly deep: boolean;

  constructor(
    private readonly storage: Pick<LocalStorage, 'readTailSync' | 'read'>,
    private readonly decoder: FileDecoder,
    private readonly format: string,
    private readonly tailBytes: number = DEFAULT_TAIL_BYTES,
    private readonly ctx: ScanContext,
  ) {
    this.scratch = new Uint8Array(tailBytes);
    this.deep = ctx.spec.verify === 'footer';
  }

  decode(path: string): DecodeOutcome | Promise<DecodeOutcome> {
    let size: number;
    let mtimeMs: number;
    let tail: Uint8Array;
    try {
      ({ tail, size, mtimeMs } = this.storage.readTailSync(path, this.tailBytes, this.scratch));
    } catch (err) {
      return this.fail(path, err);
    }
    const { file, release, extra } = trackedProbeFile(this.storage, { path, size, mtimeMs, tail }, this.ctx.signal, this.deep);
    const done = (decoded: unknown): DecodeOutcome => {
      const fingerprint = this.deep ? deepFingerprint(size, mtimeMs, tail, extra()) : fileFingerprint(size, mtimeMs, tail);
      return { ok: true, value: { size, mtimeMs, fingerprint, decoded } };
    };
    let result: unknown;
    try {
      result = this.decoder.decode(file, this.ctx);
    } catch (err) {
      release();
      return this.fail(path, err);
    }
    if (!isPromise(result)) {
      release();
      return done(result);
    }
    this.scratch = new Uint8Array(this.tailBytes); // the pending decode keeps the old buffer as its tail
    return result.then(done, (err) => this.fail(path, err)).finally(release);
  }

  private fail(path: string, err: unknown): DecodeOutcome {
    return { ok: false, error: asLakemapError(this.format, path, err) };
  }
}
