import { LakemapError } from '../errors.js';
import type { OpenStorageOptions } from '../storage/open.js';
import type { ProbeWorkers } from '../scan/file-scan.js';
import { probeWorkers } from '../scan/probe-workers.js';
import type { RefreshEngineOptions } from '../types.js';

/** An engine's options, checked and copied once (a caller mutating its object later changes nothing). */
export interface EngineSettings {
  readonly volumes: Record<string, string> | undefined;
  readonly keepVersions: number;
  readonly keepJobs: number;
  readonly concurrency: number;
  readonly workers: ProbeWorkers | undefined;
  readonly storage: OpenStorageOptions;
}

/** Checks and copies `options`; `INVALID_ARGUMENT` names the bad one. Starts the probe workers last. */
export function engineSettings(options: RefreshEngineOptions): EngineSettings {
  const keepVersions = positive(options.keepVersions ?? 10, 'keepVersions');
  const keepJobs = positive(options.keepJobs ?? 1000, 'keepJobs');
  const concurrency = positive(options.concurrency ?? 64, 'concurrency');
  return {
    volumes: options.volumes ? { ...options.volumes } : undefined,
    keepVersions,
    keepJobs,
    concurrency,
    storage: { ...options.storageOptions, ...(options.storage ? { storage: { ...options.storage } } : {}) },
    workers: options.workers === 0 ? undefined : probeWorkers(options.workers),
  };
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new LakemapError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return n;
}
