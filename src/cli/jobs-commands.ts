// `lakemap jobs`, `lakemap job <id>` and `lakemap repair <collection>`: jobs of every engine and
// process on the root, and the way out of damaged stored state.
import type { RefreshJobInfo, RepairReport } from '../types.js';
import { printJson, type Command } from './command.js';

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'refresh jobs of every engine and process on the root',
  args: [],
  optionalArgs: ['collection'],
  options: {},
  examples: ['jobs', 'jobs trips --json'],
  async run({ args: [collectionName], io, engine, dbName, json }) {
    const jobs = engine.listRefreshExternalCollectionJobs(collectionName === undefined ? {} : { collectionName, dbName });
    if (json) printJson(io, jobs);
    else if (jobs.length === 0) io.stdout.write('no refresh jobs\n');
    else for (const j of jobs) io.stdout.write(`${jobLine(j)}\n`);
    return 0;
  },
};

export const jobCommand: Command = {
  name: 'job',
  summary: "one job's state, progress, reason and changes",
  args: ['id'],
  options: {},
  examples: ['job 0mh3k2x9-4f2a91c0', 'job 0mh3k2x9-4f2a91c0 --json'],
  async run({ args: [jobId], io, engine, json }) {
    const j = engine.getRefreshExternalCollectionProgress(jobId!);
    if (json) {
      printJson(io, j, true);
      return 0;
    }
    const lines = [jobLine(j)];
    if (j.startTime) lines.push(`started ${new Date(j.startTime).toISOString()}${j.endTime ? `, ended ${new Date(j.endTime).toISOString()}` : ''}`);
    lines.push(`source ${j.externalSource} (${j.externalSpec.format}), files ${j.filesDone}/${j.filesTotal}`);
    if (j.reason) lines.push(`reason (${j.errorCode}): ${j.reason}`);
    if (j.changes) {
      const c = j.changes;
      lines.push(`files: ${c.files.added} added, ${c.files.removed} removed, ${c.files.modified} modified, ${c.files.unchanged} unchanged`);
    }
    for (const w of j.warnings) lines.push(`warning: ${w}`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

export const repairCommand: Command = {
  name: 'repair',
  summary: 're-point CURRENT at the newest valid manifest version, setting damaged files aside',
  args: ['collection'],
  options: {},
  examples: ['repair trips', 'repair trips --db lake --json'],
  async run({ args: [collectionName], io, engine, dbName, json }) {
    const report: RepairReport = await engine.repairCollection({ collectionName: collectionName!, dbName });
    if (json) {
      printJson(io, report, true);
      return 0;
    }
    const lines = [
      ...(report.found.length ? report.found.map((f) => `found: ${f}`) : [`${dbName}.${collectionName}: nothing wrong found`]),
      ...report.actions.map((a) => `did: ${a}`),
      report.version ? `CURRENT names version ${report.version}` : 'the collection has no manifest version now: refresh it',
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

function jobLine(j: RefreshJobInfo): string {
  const tail = j.state === 'RefreshCompleted' ? `version ${j.version}${j.committed ? ' committed' : ' (no change)'}` : j.state === 'RefreshFailed' ? j.errorCode : `${j.progress}%`;
  return `${j.jobId}  ${j.dbName}.${j.collectionName}  ${j.state}  ${tail}`;
}
