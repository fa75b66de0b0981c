// Errors of local file access, shared by LocalStorage and its listing.
import { LakemapError } from '../errors.js';

export function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT' || (e as NodeJS.ErrnoException)?.code === 'ENOTDIR';
}

export function ioError(rel: string, e: unknown): LakemapError {
  const msg = (e as Error)?.message ?? String(e);
  return new LakemapError('IO_ERROR', `${rel}: ${msg}`, { path: rel, cause: e });
}
