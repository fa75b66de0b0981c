/**
 * Durable writes whose fsyncs overlap. A commit used to fsync each object in turn (two per chunk, the
 * version file, `CURRENT`), each a few milliseconds on a real disk; here every file is written under
 * a temporary name at once (synchronous writes, so crash tests can stop the process mid-write) and its
 * fsync runs on the thread pool, so the flushes of one phase cost about one flush. The order of what
 * becomes *visible* (linked or renamed into place, then the folder synced) stays the caller's.
 *
 * @module
 */
import * as fs from 'node:fs';
import { tempName } from './store.js';

/** A file written under a temporary name, its fsync under way. */
export interface PendingFile {
  /** The final name. */
  file: string;
  /** The temporary name holding the content. */
  tmp: string;
  /** Bytes written. */
  bytes: number;
  /** Resolves once the content is durable (fsynced and closed). */
  synced: Promise<void>;
}

/**
 * Creates a temporary file beside `file` with `data` and starts its fsync. A failed write removes
 * the temporary file and throws; a failed fsync rejects `synced` (the caller removes `tmp`).
 */
export function writePending(file: string, data: string | Uint8Array): PendingFile {
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeFileSync(fd, data);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  // Only the flush goes to the thread pool: the close is a cheap call, and a second pool round trip
  // per file is a wait of its own on a busy machine.
  const synced = new Promise<void>((resolve, reject) => {
    fs.fsync(fd, (err) => {
      let e: unknown = err;
      try {
        fs.closeSync(fd);
      } catch (closeErr) {
        e ??= closeErr;
      }
      if (e) reject(e);
      else resolve();
    });
  });
  synced.catch(() => {}); // awaited by the caller; never an unhandled rejection meanwhile
  return { file, tmp, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length, synced };
}

/** Waits for every pending file's fsync; the first failure is thrown once all have ended. */
export async function allSynced(files: readonly PendingFile[]): Promise<void> {
  const results = await Promise.allSettled(files.map((f) => f.synced));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Removes temporary files left by pending writes (after a failure, or after linking). */
export function removeTemps(files: readonly PendingFile[]): void {
  for (const f of files) fs.rmSync(f.tmp, { force: true });
}

/**
 * Makes a directory's entries durable, where the file system allows it. The thread pool does the
 * flush; opening and closing the directory are cheap calls made here (three pool round trips per
 * folder were three waits on a busy machine, a commit syncs three folders one after another).
 */
export async function syncDirAsync(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return; // as syncDir: a file system that refuses it still renames atomically
  }
  await new Promise<void>((resolve) => {
    fs.fsync(fd, () => {
      // an error is ignored: some file systems refuse fsync on a directory
      try {
        fs.closeSync(fd);
      } catch {
        // nothing was written through it
      }
      resolve();
    });
  });
}
