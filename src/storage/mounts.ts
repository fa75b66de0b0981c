/**
 * Tells a directory on a high-latency file system (a FUSE-mounted bucket, NFS, SMB) from a local
 * disk, by the file-system type `/proc/self/mountinfo` gives for the mount that holds it. On such a
 * file system every open/read/close is a network round trip, so the scan pipelines its reads instead
 * of making one synchronous call at a time.
 */
import * as fs from 'node:fs';

/** File-system types whose calls each cost a network round trip (FUSE types are all `fuse.<name>`). */
const SLOW_TYPES = /^(fuse\..*|fuse|nfs4?|cifs|smb3?|9p|ceph|glusterfs|lustre|afs|davfs|sshfs|fuse\.sshfs)$/;
/** FUSE file systems that are local despite FUSE. */
const LOCAL_FUSE = new Set(['fuse.lxcfs', 'fuse.portal', 'fuse.gvfsd-fuse', 'fuse.fuse-overlayfs', 'fuse.squashfuse']);

/** The mount-info field decoding: spaces and friends are written as `\040` octal escapes. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The file-system type of the mount holding the absolute real path `dir`, or undefined when unknown (not Linux). */
export function fileSystemType(dir: string, mountinfo?: string): string | undefined {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  let best: { point: string; type: string } | undefined;
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const point = unescape(line.slice(0, sep).split(' ')[4] ?? '');
    const type = line.slice(sep + 3).split(' ')[0] ?? '';
    const inside = point === '/' || dir === point || dir.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type;
}

/** True for a file-system type whose calls are network round trips. */
export function isHighLatencyType(type: string | undefined): boolean {
  return type !== undefined && SLOW_TYPES.test(type) && !LOCAL_FUSE.has(type);
}

/**
 * True when `dir` (an absolute real path) sits on a high-latency file system. The environment
 * variable `LAKEMAP_PIPELINED_IO` forces the answer (`1` yes, `0` no). Read afresh each time (once
 * per refresh): a bucket may be mounted or unmounted in between.
 */
export function isHighLatencyDir(dir: string): boolean {
  const forced = process.env.LAKEMAP_PIPELINED_IO;
  if (forced === '1' || forced === '0') return forced === '1';
  return isHighLatencyType(fileSystemType(dir));
}
