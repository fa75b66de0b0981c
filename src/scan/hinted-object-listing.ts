/**
 * The hinted listing (scan/hinted-listing.ts) of an object-store source (S3, Azure Blob): the
 * previous version's file index plus, for each hinted path, what the store holds there now — the
 * object of that key (one HEAD) and the objects below it as a folder (one listing of `path/`) — so a
 * refresh told what changed costs two requests per hinted path, run together under the storage's
 * concurrency limit, instead of listing every key of the source page by page.
 *
 * The rules are the full listing's: every name on the way visible (no hidden or `_` names), keys that
 * are not clean relative paths left out (the storage does that), the `files` globs or the scanner's
 * extensions applied.
 *
 * @module
 */
import type { ObjectStorage } from '../storage/object-store.js';
import type { FileStat } from '../scanner.js';
import { mergeHinted, outermost, type IndexedFiles, type ListingRules } from './hinted-listing.js';

/**
 * The listing of `storage` with stats, in path order, from `index` with the `hinted` paths (normalized,
 * relative, not the root) looked at again; undefined when `index` is not in strictly ascending path order.
 */
export async function listHintedObjects(storage: ObjectStorage, rules: ListingRules, index: IndexedFiles, hinted: readonly string[]): Promise<FileStat[] | undefined> {
  const roots = outermost(hinted);
  const found = await Promise.all(roots.map((h) => look(storage, rules, h)));
  const fresh = found.flat();
  fresh.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let k = 1; k < fresh.length; k++) if (!(fresh[k - 1]!.path < fresh[k]!.path)) return undefined;
  return mergeHinted(index, roots, fresh);
}

/** What the full listing holds at or under `rel`: the object of that key and those below `rel/`. */
async function look(storage: ObjectStorage, rules: ListingRules, rel: string): Promise<FileStat[]> {
  if (!rel.split('/').every(rules.visible)) return []; // the full listing leaves out everything under a hidden name
  const [self, below] = await Promise.all([storage.stat(rel), storage.list(rel)]);
  const out: FileStat[] = [];
  if (self && rules.matches(self.path)) out.push(self);
  for (const f of below) if (f.path.slice(rel.length + 1).split('/').every(rules.visible) && rules.matches(f.path)) out.push(f);
  return out;
}
