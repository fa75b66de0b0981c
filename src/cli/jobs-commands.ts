// `lakemap jobs`, `lakemap job <id>` and `lakemap repair <collection>`: jobs of every engine and
// process on the root, and the way out of damaged stored state.
import type { RefreshEngine } from '../engine/engine.js';
import type { RefreshJobInfo, RepairReport } from '../types.js';

/** Usage lines of these commands, for the CLI's help. */
export const JOBS_USAGE = `  lakemap jobs [collection] [--json]      refresh jobs of every process on the root
  lakemap job <id> [--json]               one job's state, progress, reason and changes
  lakemap repair <collection> [--json]    re-point CURRENT at the newest valid version, set bad files aside`;

/** Output streams, as the CLI passes them. */
interface Out {
  stdout: NodeJS.WritableStream;
}

/** Runs `jobs`, `job` or `repair`; undefined for any other command. Resolves to the exit code. */
export function runJobsCommand(
  engine: RefreshEngine,
  command: string,
  name: string | undefined,
  o: { db: string; json: boolean },
  io: Out,
): Promise<number> | undefined {
  switch (command) {
    case 'jobs':
      return Promise.resolve(listJobs(engine, name, o, io));
    case 'job':
      return Promise.resolve(showJob(engine, name, o, io));
    case 'repair':
      return repair(engine, name, o, io);
    default:
      return undefined;
  }
}

function listJobs(engine: RefreshEngine, collectionName: string | undefined, o: { db: string; json: boolean }, io: Out): number {
  const jobs = engine.listRefreshExternalCollectionJobs(collectionName === undefined ? {} : { collectionName, dbName: o.db });
  if (o.json) io.stdout.write(`${JSON.stringify(jobs)}\n`);
  else if (jobs.length === 0) io.stdout.write('no refresh jobs\n');
  else for (const j of jobs) io.stdout.write(`${jobLine(j)}\n`);
  return 0;
}

function showJob(engine: RefreshEngine, jobId: string | undefined, o: { json: boolean }, io: Out): number {
  if (!jobId) throw new UsageErrorLike('job needs a job id (see "lakemap jobs")');
  const j = engine.getRefreshExternalCollectionProgress(jobId);
  if (o.json) {
    io.stdout.write(`${JSON.stringify(j, null, 2)}\n`);
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
}

async function repair(engine: RefreshEngine, collectionName: string | undefined, o: { db: string; json: boolean }, io: Out): Promise<number> {
  if (!collectionName) throw new UsageErrorLike('repair needs a collection name');
  const report: RepairReport = await engine.repairCollection({ collectionName, dbName: o.db });
  if (o.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines = [
    ...(report.found.length ? report.found.map((f) => `found: ${f}`) : [`${o.db}.${collectionName}: nothing wrong found`]),
    ...report.actions.map((a) => `did: ${a}`),
    report.version ? `CURRENT names version ${report.version}` : 'the collection has no manifest version now: refresh it',
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function jobLine(j: RefreshJobInfo): string {
  const tail = j.state === 'RefreshCompleted' ? `version ${j.version}${j.committed ? ' committed' : ' (no change)'}` : j.state === 'RefreshFailed' ? j.errorCode : `${j.progress}%`;
  return `${j.jobId}  ${j.dbName}.${j.collectionName}  ${j.state}  ${tail}`;
}

/** A usage mistake: the CLI prints usage and exits 2 (recognised by its name, as main.ts's own class is private). */
export class UsageErrorLike extends Error {
  override name = 'UsageError';
}
