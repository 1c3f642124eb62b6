/**
 * The result summary as the CLI prints it: the last line of `jobs watch` / `create --wait` and the
 * `result`, `best` and `duration` lines of `jobs get`. The summary itself is the client's
 * (src/client/summary.ts), shared with the dashboard's job header.
 */
import { summarizeJob, summaryText, type FtClient, type Job, type JobEvent, type JobSummary } from '../../client/index.js';

/** Reads what the summary needs; `events` (all of them, oldest first) when the caller has them already. */
export async function loadSummary(client: FtClient, job: Job, events?: JobEvent[]): Promise<JobSummary> {
  const [ckpts, evs] = await Promise.all([
    client.checkpoints(job.id).then((r) => r.data),
    events ? Promise.resolve(events) : client.events(job.id, { limit: -1, order: 'asc' }).then((r) => r.data),
  ]);
  return summarizeJob(job, ckpts, evs);
}

/** `job ID ended STATUS: <summary>; inference config <path>`. */
export function endLine(id: string, status: string, s: JobSummary | null, inferenceConfig: string | null): string {
  return `job ${id} ended ${status}${s ? `: ${summaryText(s)}` : ''}${inferenceConfig ? `; inference config ${inferenceConfig}` : ''}`;
}
