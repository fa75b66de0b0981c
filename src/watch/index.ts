// The watch feature's surface, re-exported by src/index.ts.
export { WatchEvent, WatchHandle } from './watch.js';
export type { ChangeSource, WatchChange, WatchClock, WatchError, WatchEventType, WatchMechanism, WatchOptions, WatchStatus } from './types.js';
