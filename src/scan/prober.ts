import { adoptSchema } from '../manifest/arrow-adopt.js';
import { createHash } from 'node:crypto';
import { Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import { describeSchema, encodeSchema, manifestArrowSchema } from '../manifest/schema.js';
import { fileFingerprint, placeUnits } from '../manifest/segments.js';
import type { FileTail } from '../storage/local.js';
import type { ScanStorage } from '../storage/scan-storage.js';
import type { FileProbe, FileScanner, ScanContext, ScannedEntry } from '../scanner.js';
import type { ManifestFile, ManifestSchema } from '../types.js';
import { readBudget } from './budget.js';
import type { DecodedFile } from './probe-lean.js';

import { MAX_RECORDED_COLUMNS } from '../scanner.js';
export { MAX_RECORDED_COLUMNS } from '../scanner.js';

import { DEFAULT_TAIL_BYTES, asLakemapError, deepFingerprint, isPromise, trackedProbeFile } from './probe-util.js';
export { DEFAULT_TAIL_BYTES, asLakemapError, isPromise } from './probe-util.js';

/** One probed file: its manifest entry, or the error that the file gave. */
export type ProbeOutcome = { ok: true; file: ManifestFile; warnings: string[] } | { ok: false; error: LakemapError };

/**
 * Probes files one by one into manifest entries. On a storage with synchronous tail reads (local
 * disk) it reuses one tail buffer while probes are synchronous; otherwise every probe is async.
 * Reads a scanner makes past the tail count against the thread's {@link readBudget}.
 * Used by the engine's thread and by probe workers alike. Never throws and never rejects.
 */
export class Prober {
  readonly schemas = new SchemaTable();
  private readonly tailBytes: number;
  private scratch: Uint8Array;
  /** With `verify: "footer"`: fingerprints hash every byte the probe read, not just the last 256. */
  private readonly deepFingerprint: boolean;

  constructor(
    private readonly storage: ScanStorage,
    private readonly scanner: FileScanner,
    private readonly ctx: ScanContext,
  ) {
    this.tailBytes = scanner.tailBytes ?? DEFAULT_TAIL_BYTES;
    this.scratch = new Uint8Array(this.tailBytes);
    this.deepFingerprint = ctx.spec.verify === 'footer';
  }

  /** Probes `path`; the outcome is returned directly when the storage and the scanner answered synchronously. */
  probe(path: string): ProbeOutcome | Promise<ProbeOutcome> {
    const storage = this.storage;
    if (storage.readTailSync) {
      let t: FileTail;
      try {
        t = storage.readTailSync(path, this.tailBytes, this.scratch);
      } catch (err) {
        return this.fail(path, err);
      }
      return this.run(path, t, true);
    }
    return this.readTail(path).then(
      (t) => this.run(path, t, false),
      (err) => this.fail(path, err),
    );
  }

  private async readTail(path: string): Promise<FileTail> {
    const s = this.storage;
    if (s.readTail) return s.readTail(path, this.tailBytes, this.ctx.signal);
    const st = await s.stat(path);
    if (!st) throw new LakemapError('NOT_FOUND', `${path} not found under ${s.root}`, { path });
    const n = Math.min(st.size, this.tailBytes);
    return { tail: await s.read(path, st.size - n, n), size: st.size, mtimeMs: st.mtimeMs };
  }

  private run(path: string, t: FileTail, scratchTail: boolean): ProbeOutcome | Promise<ProbeOutcome> {
    const { tail, size, mtimeMs } = t;
    const { file, release, extra } = trackedProbeFile(this.storage, { path, size, mtimeMs, tail }, this.ctx.signal, this.deepFingerprint);
    let result: FileProbe | Promise<FileProbe>;
    try {
      result = this.scanner.probe(file, this.ctx);
    } catch (err) {
      release();
      return this.fail(path, err);
    }
    if (!isPromise(result)) {
      release();
      return this.accept(path, t, extra(), result);
    }
    if (scratchTail) this.scratch = new Uint8Array(this.tailBytes); // the pending probe keeps the old buffer
    return result
      .then(
        (r) => this.accept(path, t, extra(), r),
        (err) => this.fail(path, err),
      )
      .finally(release);
  }

  /**
   * Finishes a file whose first stage ran elsewhere (a probe worker's {@link LeanProber}): the
   * scanner's `split.finish`, then the same checks and entry as {@link Prober.probe}.
   */
  finishDecoded(path: string, d: DecodedFile): ProbeOutcome {
    let probe: FileProbe;
    try {
      probe = this.scanner.split!.finish({ path, size: d.size, mtimeMs: d.mtimeMs }, d.decoded, this.ctx);
    } catch (err) {
      return this.fail(path, err);
    }
    return this.accept(path, { tail: NO_TAIL, size: d.size, mtimeMs: d.mtimeMs }, NO_BYTES, probe, d.fingerprint);
  }

  private fail(path: string, err: unknown): ProbeOutcome {
    return { ok: false, error: asLakemapError(this.scanner.format, path, err) };
  }

  private accept(path: string, t: FileTail, extra: readonly Uint8Array[], probe: FileProbe, fingerprint?: string): ProbeOutcome {
    const { size, mtimeMs, tail } = t;
    try {
      const units = checkEntry(this.scanner.format, path, probe);
      const warnings = probe.warnings?.length ? probe.warnings.map((w) => `${path}: ${w}`) : [];
      let schema = probe.schema;
      if (schema.fields.length > MAX_RECORDED_COLUMNS) {
        warnings.push(`${path}: the schema has ${schema.fields.length} top-level columns; only the first ${MAX_RECORDED_COLUMNS} are recorded`);
        schema = new Schema(schema.fields.slice(0, MAX_RECORDED_COLUMNS), schema.metadata);
      }
      // An object store's ETag joins the fingerprint: a same-size rewrite within its mtime granularity changes it.
      const etag = (t as FileTail & { etag?: string }).etag;
      const derived = fingerprint ?? (this.deepFingerprint ? deepFingerprint(size, mtimeMs, tail, extra) : fileFingerprint(size, mtimeMs, tail));
      const schemaIndex = this.schemas.indexOf(schema, path);
      // Two literals rather than a spread of the etag: same keys in the same order, without a
      // temporary object and a spread per file (local files have no etag).
      const file: ManifestFile = etag
        ? {
            path,
            sizeBytes: size,
            mtimeMs,
            etag,
            fingerprint: probe.fingerprint ?? `${derived}-${createHash('sha256').update(etag).digest('hex').slice(0, 12)}`,
            rows: probe.rows,
            liveRows: probe.liveRows ?? probe.rows,
            liveRowsExact: probe.liveRowsExact ?? true,
            schemaIndex,
            units,
          }
        : {
            path,
            sizeBytes: size,
            mtimeMs,
            fingerprint: probe.fingerprint ?? derived,
            rows: probe.rows,
            liveRows: probe.liveRows ?? probe.rows,
            liveRowsExact: probe.liveRowsExact ?? true,
            schemaIndex,
            units,
          };
      if (probe.details) file.details = probe.details;
      return { ok: true, file, warnings };
    } catch (err) {
      return this.fail(path, err);
    }
  }
}

const NO_BYTES: readonly Uint8Array[] = [];
const NO_TAIL = new Uint8Array(0);

/** Checks a scanner's entry for consistency and returns its placed units. */
export function checkEntry(format: string, path: string, e: ScannedEntry): ManifestFile['units'] {
  const bad = (what: string): never => {
    throw new LakemapError('SCANNER_ERROR', `scanner "${format}" returned ${what} for ${path}`, { path });
  };
  if (!Number.isSafeInteger(e.rows) || e.rows < 0) bad(`an invalid row count (${e.rows})`);
  if (!Array.isArray(e.units)) bad('no units');
  let sum = 0;
  for (const u of e.units) {
    if (!Number.isSafeInteger(u.rows) || u.rows < 0) bad(`a unit with an invalid row count (${u.rows})`);
    if (!Number.isFinite(u.byteSize) || u.byteSize < 0) bad(`a unit with an invalid byte size (${u.byteSize})`);
    sum += u.rows;
  }
  if (sum !== e.rows) bad(`${e.rows} rows but units that add up to ${sum}`);
  if (e.liveRows !== undefined && (!Number.isSafeInteger(e.liveRows) || e.liveRows < 0 || e.liveRows > e.rows)) {
    bad(`an invalid live row count (${e.liveRows} of ${e.rows})`);
  }
  return placeUnits(e.units);
}


/** Distinct schemas seen in a scan, deduplicated by object identity and then by their readable form. */
export class SchemaTable {
  readonly stored: ManifestSchema[] = [];
  private readonly arrows: (Schema | undefined)[] = [];
  private readonly byObject = new Map<Schema, number>();
  private readonly bySignature = new Map<string, number>();

  /** Index of a probe's schema; `where` names the file in errors. */
  indexOf(probed: Schema, where: string): number {
    let idx = this.byObject.get(probed);
    if (idx !== undefined) return idx;
    const schema = adoptSchema(probed, where); // the scanner may use another copy of apache-arrow
    const sig = JSON.stringify(describeSchema(schema));
    idx = this.bySignature.get(sig);
    if (idx === undefined) {
      idx = this.stored.length;
      this.stored.push(encodeSchema(schema));
      this.arrows.push(schema);
      this.bySignature.set(sig, idx);
    }
    this.byObject.set(probed, idx);
    return idx;
  }

  indexOfStored(s: ManifestSchema): number {
    const sig = JSON.stringify(s.fields);
    let idx = this.bySignature.get(sig);
    if (idx === undefined) {
      idx = this.stored.length;
      this.stored.push(s);
      this.arrows.push(undefined);
      this.bySignature.set(sig, idx);
    }
    return idx;
  }

  arrow(i: number): Schema {
    let s = this.arrows[i];
    if (!s) {
      s = manifestArrowSchema({ schema: this.stored[i]! });
      this.arrows[i] = s;
    }
    return s;
  }
}
