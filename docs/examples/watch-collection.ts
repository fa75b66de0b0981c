// The example of docs/watching.md, compiled and run by test/watch-local.test.ts.
import { RefreshEngine, type WatchHandle } from 'lakemap';

export async function keepCurrent(root: string, collectionName: string, log: (line: string) => void): Promise<WatchHandle> {
  const engine = new RefreshEngine({ root });
  const watch = engine.watch({ collectionName }, { debounceMs: 500, maxWaitMs: 10_000 });
  await watch.ready; // rejects when the collection does not exist
  log(`watching with ${watch.status().mechanism}: ${watch.status().reason}`);
  watch.on('refreshend', (e) => {
    const job = e.job!;
    if (job.state === 'RefreshFailed') log(`refresh failed (${job.errorCode}): ${job.reason}; previous version kept`);
    else if (job.committed) log(`now at version ${job.version}`);
  });
  return watch; // watch.close() when done
}
