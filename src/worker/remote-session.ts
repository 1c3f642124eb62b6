/**
 * The remote worker's session with the control plane (GET /v1/worker/session, newline-delimited
 * JSON): status pushes for the jobs this process runs, so a cancel reaches the trainer in
 * milliseconds rather than at the next heartbeat; and presence, so a killed worker's attempts are
 * recovered within seconds rather than a lease later (service/workers/worker-sessions.ts). The stream is
 * reopened whenever it breaks (backoff 100 ms … 2 s, moving across server URLs), and treated as
 * broken when nothing, not even a ping (every 15 s), arrived for 45 s. Heartbeats still carry the
 * status, so a push lost while reconnecting costs at most one heartbeat interval.
 */
import type { JobStatus } from '../domain/status.js';
import { workerPath } from '../api/worker-protocol.js';
import type { SessionLine } from '../domain/work.js';
import type { WorkerHttp } from './remote-http.js';
import type { StatusFeed } from './work-source.js';

const SILENCE_MS = 45_000; // 3 missed pings

export class RemoteSession implements StatusFeed {
  private readonly listeners = new Map<string, Set<(s: JobStatus) => void>>();
  private readonly ac = new AbortController();
  private loop: Promise<void> | null = null;
  /** Times the stream was (re)opened: tests and logs. */
  opened = 0;

  constructor(private readonly http: WorkerHttp, readonly prefix: string, private readonly onError: (err: unknown) => void = () => undefined) {}

  start(): void {
    this.loop ??= this.run();
  }

  onStatus(job_uuid: string, fn: (status: JobStatus) => void): () => void {
    let set = this.listeners.get(job_uuid);
    if (!set) this.listeners.set(job_uuid, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (set!.size === 0) this.listeners.delete(job_uuid);
    };
  }

  /** Claims long-poll; there is nothing to wake. */
  onWork(): () => void {
    return () => undefined;
  }

  private async run(): Promise<void> {
    while (!this.ac.signal.aborted) {
      const silence = new AbortController();
      let watchdog: NodeJS.Timeout | undefined;
      const feed = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => silence.abort(), SILENCE_MS);
      };
      try {
        feed();
        const res = await this.http.fetch(`${workerPath('session')}?prefix=${encodeURIComponent(this.prefix)}`, { signal: AbortSignal.any([this.ac.signal, silence.signal]) });
        if (!res.ok || !res.body) throw new Error(`session answered ${res.status}: ${await res.text()}`);
        this.opened++;
        let buf = '';
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          feed();
          buf += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            this.dispatch(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
          }
        }
      } catch (err) {
        if (!this.ac.signal.aborted && !silence.signal.aborted) this.onError(err);
      } finally {
        clearTimeout(watchdog);
      }
      if (!this.ac.signal.aborted) await new Promise((r) => setTimeout(r, 100 + Math.random() * 400)); // the server restarts: do not spin
    }
  }

  private dispatch(line: string): void {
    if (!line.trim()) return;
    let m: SessionLine;
    try {
      m = JSON.parse(line) as SessionLine;
    } catch {
      return;
    }
    if (m.type !== 'status' || !m.job_uuid || !m.status) return;
    for (const fn of this.listeners.get(m.job_uuid) ?? []) fn(m.status as JobStatus);
  }

  /**
   * Graceful stop: tells the control plane this boot is gone (its attempts are recovered now, not
   * after a grace or a lease), then closes the stream.
   */
  async end(): Promise<void> {
    const until = performance.now() + 2_000; // a stopping worker does not wait long for a control plane that is down
    await this.http.json(workerPath('sessionEnd'), { prefix: this.prefix }, { until: () => until, timeoutMs: 5_000 }).catch(this.onError);
    this.ac.abort();
    await this.loop?.catch(() => undefined);
  }

  close(): void {
    this.ac.abort();
  }
}
