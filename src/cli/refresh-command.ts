// `lakemap refresh`: start a refresh, show its progress, wait, summarise.
import type { RefreshJobInfo } from '../types.js';
import { absoluteSource, printJson, specFrom, type Command } from './command.js';
import { progressFor } from './progress.js';

export const refreshCommand: Command = {
  name: 'refresh',
  summary: "scan the source's metadata and commit a new manifest version",
  args: ['collection'],
  options: {
    source: { type: 'string', value: 'S', help: 'use this source (kept if the refresh completes)' },
    format: { type: 'string', value: 'F', help: 'use this format (kept if the refresh completes)' },
    spec: { type: 'string', value: 'JSON', help: 'use this external spec (kept if the refresh completes)' },
    changed: { type: 'string', multiple: true, value: 'PATH', help: 'a file or directory that may have changed; only those are looked at' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
  },
  description:
    'Scans the external source (metadata only) and commits a new manifest version when anything changed. ' +
    'Progress goes to stderr: a bar on a terminal, plain lines otherwise. Ctrl-C cancels the job; ' +
    'the previous manifest stays current. With --changed, only those paths are looked at and every other file is ' +
    'taken as the current version has it (see RefreshRequest.changedPaths; the job says when the whole source was listed ' +
    'instead). Exit 0 completed, 1 failed, 2 usage.',
  examples: ['refresh trips', 'refresh trips --changed day=2024-06-02 --changed day=2024-06-01/part-7.parquet', 'refresh trips --spec \'{"format":"parquet","segment_max_rows":100000}\' --json'],
  async run({ args: [collectionName], values: o, io, engine, dbName, json }) {
    const externalSpec = specFrom(o.format, o.spec);
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.once('SIGINT', onSignal);
    const view = o.quiet ? undefined : progressFor(io, `${dbName}.${collectionName}`);
    const stop = view ? engine.on('progress', (e) => view.update(e.job)) : undefined;
    const stopState = view ? engine.on('statechange', (e) => view.update(e.job)) : undefined;
    try {
      const { jobId } = await engine.refreshExternalCollection({
        collectionName: collectionName!,
        dbName,
        ...(typeof o.source === 'string' ? { externalSource: absoluteSource(o.source) } : {}),
        ...(externalSpec ? { externalSpec } : {}),
        ...(Array.isArray(o.changed) ? { changedPaths: o.changed } : {}),
        signal: ac.signal,
      });
      const info = await engine.waitForRefresh(jobId);
      view?.finish(info);
      const failed = info.state === 'RefreshFailed';
      if (json) printJson(io, failed ? { ...info, error: { code: info.errorCode, message: info.reason, path: info.errorPath ?? null } } : info);
      else if (!failed) io.stdout.write(refreshSummary(info));
      if (failed && !json) io.stderr.write(`lakemap: refresh failed (${info.errorCode}): ${info.reason}\n`);
      return failed ? 1 : 0;
    } finally {
      view?.dispose();
      stop?.();
      stopState?.();
      process.off('SIGINT', onSignal);
    }
  },
};

function refreshSummary(info: RefreshJobInfo): string {
  const c = info.changes!;
  const head = info.committed ? `committed manifest version ${info.version}` : `no change: manifest version ${info.version} is current`;
  return (
    `${head} in ${info.endTime - info.startTime} ms\n` +
    (info.hint ? `listing: ${info.hint.listing === 'hinted' ? `${info.hint.paths} changed path(s) looked at` : `the whole source (${info.hint.reason})`}\n` : '') +
    `files: ${c.files.added} added, ${c.files.removed} removed, ${c.files.modified} modified, ${c.files.unchanged} unchanged\n` +
    `segments: ${c.segments.added} added, ${c.segments.removed} removed, ${c.segments.kept} kept\n` +
    (info.skipped.length ? `skipped ${info.skipped.length} invalid file(s): ${info.skipped.map((s) => s.path).join(', ')}\n` : '') +
    (info.warnings.length ? `warnings:\n${info.warnings.map((w) => `  ${w}`).join('\n')}\n` : '')
  );
}
