// What kind of file system a directory lives on, from /proc/self/mountinfo (Linux).
import * as fs from 'node:fs';

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
