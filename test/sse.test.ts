/**
 * Job events over HTTP (docs/spec.md#extensions-and-v06): `GET /v0.5/fine-tune/jobs/{id}/events` as a live server-sent
 * event stream (recorded events first, then new ones and `status` events as they happen; the stream
 * ends after the terminal status; `Last-Event-ID` resumes without repeats), and the JSON form
 * (`{data:[...]}`, newest first, `limit`, `order=asc`). The trainer is held at gates so "live" is
 * provable: what arrives after a gate opens was not recorded when the stream started. statusFrames
 * (which statuses a pump shows when several changes land between two reads) is checked on its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../src/domain/types.js';
import { statusFrames } from '../src/http/routes/sse.js';
import { jobBody, startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

const JOBS = '/v0.5/fine-tune/jobs';
let t: TestApp;
let seq = 0;

interface SseMessage {
  id?: number;
  event: string;
  data: any;
}

/** A minimal SSE parser over a fetch body: `next()` gives the next message, or null at the end of the stream. */
class SseStream {
  private buf = '';
  private readonly queue: SseMessage[] = [];
  private ended = false;
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>, readonly abort: () => void) {}

  async next(): Promise<SseMessage | null> {
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.ended) return null;
      const { value, done } = await this.reader.read();
      if (done) this.ended = true;
      else this.buf += this.decoder.decode(value, { stream: true });
      for (let i = this.buf.indexOf('\n\n'); i >= 0; i = this.buf.indexOf('\n\n')) {
        this.parse(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
    }
  }

  /** Reads until `stop(message)` is true (that message included), or to the end of the stream. */
  async until(stop: (m: SseMessage) => boolean): Promise<SseMessage[]> {
    const out: SseMessage[] = [];
    for (let m = await this.next(); m; m = await this.next()) {
      out.push(m);
      if (stop(m)) return out;
    }
    return out;
  }

  private parse(block: string): void {
    let event = 'message';
    let id: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue; // comments are keep-alives
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = Number(value);
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) this.queue.push({ id, event, data: JSON.parse(data.join('\n')) });
  }
}

async function openStream(jobId: string, lastEventId?: number): Promise<SseStream> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 60_000); // a hung stream fails the test instead of hanging it
  timer.unref();
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}`, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const res = await fetch(`${t.app.url}${JOBS}/${jobId}/events`, { headers, signal: ctl.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  return new SseStream(res.body!.getReader(), () => ctl.abort());
}

/** Every recorded event of a job, oldest first. */
async function recorded(jobId: string): Promise<any[]> {
  return (await t.client.get(`${JOBS}/${jobId}/events?order=asc&limit=-1`)).body.data;
}

/** Runs `fn`, then opens every gate of job `id`, so a failed test never leaves the one worker held. */
async function releasing(id: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    for (const g of ['step_2', 'final_eval']) t.gates.open(id, g);
  }
}

async function create(plan: string): Promise<string> {
  const r = await t.client.call('POST', JOBS, jobBody(`fixture-${plan}`, 'data.jsonl', { id: `sse-${plan}-${++seq}` }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const recordedOnly = (ms: SseMessage[]) => ms.filter((m) => m.event !== 'status');
const statuses = (ms: SseMessage[]) => ms.filter((m) => m.event === 'status').map((m) => m.data.status);

before(async () => {
  t = await startTestApp({
    plans: { gated: { steps: 4, evalEvery: 2, gates: ['step_2', 'final_eval'] }, plain: { steps: 4, evalEvery: 2 } },
    overrides: { builtinWorkers: 1 },
  });
  await t.client.upload('data.jsonl', '{"x":1}\n');
});
after(() => t.close());

describe('live stream', () => {
  test('recorded events first, then new events and status changes live; ends after the terminal status', async () => {
    const id = await create('gated');
    await releasing(id, async () => {
      await t.gates.reached(id, 'step_2');
      await t.client.waitStatus(id, ['RUNNING']);
      const s = await openStream(id);
      const early = await s.until((m) => m.event === 'status');
      const before = await recorded(id);
      assert.deepEqual(recordedOnly(early).map((m) => m.id), before.map((e) => e.seq).filter((q) => q <= early.at(-2)!.id!), 'the recorded backlog, in order');
      for (const type of ['job_registered', 'training_started']) assert.ok(early.some((m) => m.event === type), `backlog has ${type}`);
      assert.equal(early.at(-1)!.data.status, 'RUNNING');
      assert.deepEqual(Object.keys(early.at(-1)!.data).sort(), ['config', 'created_at', 'error', 'id', 'inference_config_path', 'name', 'org_uuid', 'progress', 'status', 'updated_at', 'uuid']);

      t.gates.open(id, 'step_2');
      const mid = await s.until((m) => m.event === 'status' && m.data.status === 'FINALIZING');
      assert.ok(mid.some((m) => m.event === 'finalizing'), 'the finalizing event arrives live');
      const backlog = new Set(recordedOnly(early).map((m) => m.id));
      assert.ok(recordedOnly(mid).length > 0 && recordedOnly(mid).every((m) => !backlog.has(m.id)), 'new events only, none sent twice');
      t.gates.open(id, 'final_eval');
      const rest = await s.until(() => false); // to the end of the stream: it must end by itself
      const all = [...early, ...mid, ...rest];
      assert.equal(all.at(-1)!.event, 'status');
      assert.equal(all.at(-1)!.data.status, 'COMPLETED');
      assert.match(all.at(-1)!.data.inference_config_path, /^file:\/\//);
      const seen = statuses(all);
      assert.deepEqual([...new Set(seen)], ['RUNNING', 'FINALIZING', 'COMPLETED'], 'status events follow the lifecycle');
      const ids = recordedOnly(all).map((m) => m.id!);
      assert.deepEqual(ids, (await recorded(id)).map((e) => e.seq), 'every recorded event exactly once, in order');
      for (const m of recordedOnly(all)) assert.equal(m.data.type, m.event);
    });
  });

  test('a stream opened on a finished job sends the backlog and the final status, then ends', async () => {
    const id = await create('plain');
    await t.client.waitStatus(id, ['COMPLETED']);
    const all = await (await openStream(id)).until(() => false);
    assert.deepEqual(recordedOnly(all).map((m) => m.id), (await recorded(id)).map((e) => e.seq));
    assert.deepEqual(statuses(all), ['COMPLETED']);
  });
});

describe('Last-Event-ID', () => {
  test('a reconnect mid-run resumes after the last event seen, without repeats or gaps', async () => {
    const id = await create('gated');
    await releasing(id, async () => {
      await t.gates.reached(id, 'step_2');
      const first = await openStream(id);
      const part1 = await first.until((m) => m.event === 'status');
      first.abort();
      const lastId = recordedOnly(part1).at(-1)!.id!;
      assert.ok(lastId > 1);
      const second = await openStream(id, lastId);
      t.gates.open(id, 'step_2');
      t.gates.open(id, 'final_eval');
      const part2 = await second.until(() => false);
      assert.ok(recordedOnly(part2).every((m) => m.id! > lastId), 'nothing at or before Last-Event-ID is repeated');
      assert.deepEqual([...recordedOnly(part1), ...recordedOnly(part2)].map((m) => m.id), (await recorded(id)).map((e) => e.seq), 'no gap');
      assert.equal(statuses(part2).at(-1), 'COMPLETED');
    });
  });

  test('on a finished job: only the events after the given id', async () => {
    const id = await create('plain');
    await t.client.waitStatus(id, ['COMPLETED']);
    const events = await recorded(id);
    const middle = events[Math.floor(events.length / 2)].seq;
    const all = await (await openStream(id, middle)).until(() => false);
    assert.deepEqual(recordedOnly(all).map((m) => m.id), events.filter((e) => e.seq > middle).map((e) => e.seq));
    const none = await (await openStream(id, events.at(-1).seq)).until(() => false);
    assert.deepEqual(recordedOnly(none), []);
    assert.deepEqual(statuses(none), ['COMPLETED']);
  });
});

describe('JSON mode', () => {
  test('{data:[...]} newest first by default; limit; order=asc', async () => {
    const id = await create('plain');
    await t.client.waitStatus(id, ['COMPLETED']);
    const r = await t.client.get(`${JOBS}/${id}/events`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(r.body), ['data']);
    const data = r.body.data as any[];
    assert.ok(data.length >= 5);
    for (let i = 1; i < data.length; i++) assert.ok(data[i - 1].seq > data[i].seq, 'newest first');
    assert.equal(data[0].type, 'job_completed');
    assert.equal(data.at(-1).type, 'job_registered');
    for (const e of data) {
      assert.deepEqual(Object.keys(e).sort(), ['created_at', 'data', 'event_type', 'id', 'level', 'message', 'seq', 'type']);
      assert.match(e.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    assert.deepEqual((await t.client.get(`${JOBS}/${id}/events?limit=2`)).body.data, data.slice(0, 2));
    assert.deepEqual((await t.client.get(`${JOBS}/${id}/events?order=asc&limit=-1`)).body.data, [...data].reverse());
    assert.equal((await t.client.get(`${JOBS}/${id}/events?limit=0`)).status, 400);
    assert.equal((await t.client.get(`${JOBS}/nope/events`)).status, 404);
  });
});

describe('statusFrames: every status a job passes through, in order, never back in time', () => {
  const at = (status: string, step = 0) => ({ status, progress: { step } }) as unknown as Job;
  const statuses = (jobs: Job[]) => jobs.map((j) => j.status);
  test('a status that was passed before the read is shown before the read', () => {
    assert.deepEqual(statuses(statusFrames('RUNNING', [at('STOPPING'), at('STOPPED')], at('STOPPED'))), ['STOPPING']);
    assert.deepEqual(statuses(statusFrames('', [at('STARTING'), at('RUNNING'), at('STOPPING')], at('STOPPED'))), ['STARTING', 'RUNNING', 'STOPPING']);
  });
  test('nothing twice: the status shown and the read\'s own status are not repeated', () => {
    assert.deepEqual(statuses(statusFrames('RUNNING', [at('RUNNING', 5), at('RUNNING', 6)], at('RUNNING', 7))), []);
    assert.deepEqual(statuses(statusFrames('RUNNING', [at('STOPPING')], at('STOPPING'))), []);
  });
  test('snapshots the previous read already showed are skipped (they arrived while it was in flight)', () => {
    // The previous read returned FINALIZING after both changes were committed: nothing goes back to RUNNING.
    assert.deepEqual(statuses(statusFrames('FINALIZING', [at('RUNNING'), at('FINALIZING')], at('FINALIZING'))), []);
    // It returned RUNNING: FINALIZING is still to show, then the read's COMPLETED.
    assert.deepEqual(statuses(statusFrames('RUNNING', [at('RUNNING'), at('FINALIZING')], at('COMPLETED'))), ['FINALIZING']);
  });
});
