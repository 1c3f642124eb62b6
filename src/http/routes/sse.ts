/**
 * Live job events as server-sent events: first every recorded event after Last-Event-ID (so a
 * reconnect resumes without gaps), then each new one as it is recorded, plus a `status` event on
 * every status change (each status the job passes through, even two between one read and the next:
 * statusFrames). The stream ends after the job reaches a terminal status (not while the
 * database is unavailable). A comment line every 15 s keeps proxies from closing an idle stream.
 * A HEAD gets the stream's headers and ends at once: Node ignores writes of a HEAD response and sends
 * no headers until its end, so a HEAD stream was never answered (found by the route fuzzer, docs/testing.md).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { eventDto, jobDto } from '../../api/dto.js';
import { isTerminal } from '../../domain/status.js';
import type { Job } from '../../domain/types.js';
import type { JobsService } from '../../service/jobs/jobs-service.js';
import { StoreUnavailableError } from '../../domain/unavailable.js';

const KEEPALIVE_MS = 15_000;
const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

/** Hijacks the reply and sends the stream's headers; false for a HEAD, which is then answered. */
function open(req: FastifyRequest, reply: FastifyReply): boolean {
  reply.hijack();
  reply.raw.writeHead(200, STREAM_HEADERS);
  if (req.method !== 'HEAD') return true;
  reply.raw.end();
  return false;
}

/**
 * The status frames a pump sends before the job as it read it: the statuses in `changes` (the bus's
 * snapshots of this job's changes, oldest first, all committed before the read) that the stream has
 * not shown yet, each once and in order, none equal to the read's own status (its frame follows).
 * So a STOPPING that became STOPPED before the read is still shown. Snapshots that arrived while the
 * previous read was in flight may already be behind what it showed: everything up to the last
 * snapshot with the status last shown is skipped, so a frame never goes back in time.
 */
export function statusFrames(shown: string, changes: readonly Job[], current: Job): Job[] {
  const from = changes.map((j): string => j.status).lastIndexOf(shown) + 1;
  const out: Job[] = [];
  for (const j of changes.slice(from)) {
    if (j.status === shown || j.status === current.status) continue;
    out.push(j);
    shown = j.status;
  }
  return out;
}

export async function streamEvents(req: FastifyRequest, reply: FastifyReply, jobs: JobsService, job: Job): Promise<void> {
  if (!open(req, reply)) return;
  const res = reply.raw;
  let lastSeq = Number(req.headers['last-event-id'] ?? 0) || 0;
  let lastSig = '';
  let shown = ''; // the status of the last status frame
  let changes: Job[] = []; // the bus's snapshots since the last read began
  let closed = false;
  let pumping = Promise.resolve();
  const org = job.org_uuid;

  const pump = async (): Promise<void> => {
    if (closed) return;
    const seen = changes; // taken before the read: every one of them is at most as new as it
    changes = [];
    // The job first, then the events: a status change and its event are one write, so every event up
    // to the status read is in the events read after it. (Events first could miss `job_completed` when
    // it lands between the two reads, and the stream would end without it.) It also sends the event
    // before the `status` event it caused.
    let current: Job | null;
    try {
      current = await jobs.get(org, job.id);
    } catch (err) {
      // The database is unreachable (restarting): not a reason to end the stream. The next wake-up
      // pumps again (after a reconnect the LISTEN side re-announces every job that was not yet ended).
      if (err instanceof StoreUnavailableError) {
        changes = [...seen, ...changes]; // still to show, after the next read
        return;
      }
      current = null; // the job is gone (deleted)
    }
    const events = await jobs.events(org, job.id, { limit: -1, newestFirst: false, afterSeq: lastSeq }).catch(() => []);
    for (const e of events) {
      res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(eventDto(e))}\n\n`);
      lastSeq = e.seq;
    }
    if (!current) return finish();
    // Statuses passed through between two reads (their events are already written above).
    const passed = statusFrames(shown, seen, current);
    for (const j of passed) res.write(`event: status\ndata: ${JSON.stringify(jobDto(j))}\n\n`);
    const sig = `${current.status}|${JSON.stringify(current.progress)}`;
    if (sig !== lastSig || passed.length > 0) {
      lastSig = sig;
      shown = current.status;
      res.write(`event: status\ndata: ${JSON.stringify(jobDto(current))}\n\n`);
    }
    if (isTerminal(current.status)) finish();
  };
  const schedule = (changed?: Job): void => {
    if (changed) changes.push(changed);
    pumping = pumping.then(pump);
  };
  const unsubscribe = jobs.subscribe(job, schedule);
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  function finish(): void {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(keepalive);
    res.end();
  }
  req.raw.on('close', finish);
  schedule();
  await pumping;
}

/**
 * The jobs table's live stream: `GET /v0.5/fine-tune/jobs` with `Accept: text/event-stream` sends a
 * `job` event (the job record) on every status change of the org's fine-tune jobs, until the client
 * goes away. Clients reload their page on each one; nothing is replayed (read the list first).
 */
export function streamOrgJobs(req: FastifyRequest, reply: FastifyReply, jobs: JobsService, org_uuid: string): void {
  if (!open(req, reply)) return;
  const res = reply.raw;
  res.write(': ftnode jobs stream\n\n');
  const off = jobs.subscribeOrg(org_uuid, (j) => res.write(`event: job\ndata: ${JSON.stringify(jobDto(j))}\n\n`));
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  req.raw.on('close', () => {
    off();
    clearInterval(keepalive);
    res.end();
  });
}
