import type { RefreshEngine } from './engine.js';
import type { EngineState } from './plan.js';
import type { WatchHost } from '../watch/watch.js';
import { openLocalSource, openSource, parseSource } from '../storage/source.js';
import { specStorageOptions } from '../storage/options.js';

/** What a watch needs of its engine: the public calls, plus how to open the collection's source. */
export function watchHost(engine: RefreshEngine, state: EngineState): WatchHost {
  return {
    owner: engine,
    root: engine.root,
    describeCollection: (r) => engine.describeCollection(r),
    refreshExternalCollection: (r) => engine.refreshExternalCollection(r),
    waitForRefresh: (id) => engine.waitForRefresh(id),
    scannerFor: (format) => state.scanners.get(format),
    openStorage: async (source, spec) => {
      const loc = parseSource(source, state.volumes, state.schemes());
      // a local tree is watched as such (events or directory polls); an object store through its listing
      return loc.url === undefined ? openLocalSource(loc) : openSource(loc, { ...state.storage, ...specStorageOptions(spec) });
    },
    onRefreshEnd: (listener) =>
      engine.on('statechange', (e) => {
        if (e.job.state !== e.previousState && (e.job.state === 'RefreshCompleted' || e.job.state === 'RefreshFailed')) listener(e.job);
      }),
  };
}
