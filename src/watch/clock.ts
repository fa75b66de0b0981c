import type { WatchClock } from './types.js';

/** The real clock: `Date.now` and unref'd timers (a watch alone does not keep a process alive). */
export const realClock: WatchClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
