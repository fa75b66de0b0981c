/**
 * What kind of file system a directory lives on, from `/proc/self/mountinfo` (Linux). The scan uses it
 * to tell a high-latency file system (a FUSE-mounted bucket, NFS, SMB) from a local disk: there every
 * open/read/close is a network round trip, so reads are pipelined instead of made one synchronous call
 * at a time. A watch uses it to poll where changes made elsewhere produce no local event.
 */
import * as fs from 'node:fs';

/** File-system types whose calls each cost a network round trip (FUSE types are all `fuse.<name>`). */
const SLOW_TYPES = /^(fuse\..*|fuse|nfs4?|cifs|smb3?|9p|ceph|glusterfs|lustre|afs|davfs|sshfs|fuse\.sshfs)$/;
/** FUSE file systems that are local despite FUSE. */
const LOCAL_FUSE = new Set(['fuse.lxcfs', 'fuse.portal', 'fuse.gvfsd-fuse', 'fuse.fuse-overlayfs', 'fuse.squashfuse']);

/** The mount a path lives on. */
export interface MountInfo {
  /** Mount point. */
  mountPoint: string;
  /** File-system type, e.g. `ext4`, `fuse.s3fs`, `nfs4`. */
  fsType: string;
  /** Mount source, e.g. the bucket name or `server:/export`. */
  source: string;
}

// Changes made elsewhere (another host, the object store's API) produce no local event on these.
const REMOTE = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', '9p', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'afs', 'davfs', 'virtiofs', 'vboxsf', 'fuse']);

/** True for FUSE and network file systems, where only polling sees every change. */
export function isRemoteFs(fsType: string): boolean {
  return REMOTE.has(fsType) || (fsType.startsWith('fuse.') && fsType !== 'fuse.portal');
}

/** Parses the text of `/proc/self/mountinfo`. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional…] - fstype source super-options
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (dash < 6 || parts.length < dash + 3) continue;
    out.push({ mountPoint: unescape(parts[4]!), fsType: parts[dash + 1]!, source: unescape(parts[dash + 2]!) });
  }
  return out;
}

/** The mount `absPath` (a real path) lives on, or undefined when mountinfo cannot be read (not Linux). */
export function mountOf(absPath: string, mountInfoText?: string): MountInfo | undefined {
  let text = mountInfoText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  let best: MountInfo | undefined;
  for (const m of parseMountInfo(text)) {
    const inside = m.mountPoint === '/' || absPath === m.mountPoint || absPath.startsWith(`${m.mountPoint}/`);
    // The last of equally long mount points is the one on top.
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The file-system type of the mount holding the absolute real path `dir`, or undefined when unknown (not Linux). */
export function fileSystemType(dir: string, mountinfo?: string): string | undefined {
  return mountOf(dir, mountinfo)?.fsType;
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
