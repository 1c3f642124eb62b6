/**
 * Remote worker sessions (docs/scaling.md): each `ftnode worker` process holds one long-lived
 * response open (GET /v1/worker/session). It carries two things:
 * - pushes: the status of every job one of the process's attempts is running, as it changes (bus
 *   'job-changed', fed by NOTIFY across replicas), so a cancel kills a remote trainer within
 *   milliseconds instead of at the next heartbeat (3 s by default);
 * - presence: when the connection drops without a goodbye (the process was killed, its host
 *   rebooted) and the worker has not registered again within `graceMs`, its attempts are recovered at
 *   once instead of after the lease (30 s). A host that vanishes without closing its sockets is
 *   still caught by the lease. A goodbye (graceful stop) recovers them without waiting.
 * Invariant: recovery only ever targets the session's own prefix `remote:<token id>:<node>:<boot>:`.
 */
import type { Job } from '../../domain/types.js';
import type { SessionLine } from '../../domain/work.js';
import type { Recovery } from '../attempts/recovery.js';
import type { ServiceCore } from '../deps.js';

export type { SessionLine };

interface Session {
  prefix: string;
  send(line: SessionLine): void;
  end(): void;
}

export interface SessionSettings {
  graceMs: number;
  pingMs: number;
}

/** Never a prefix of a worker id (they start with `remote:`): "no live boot to spare" for Store.reapLostAttempts. */
const NO_EXCEPTION = '#';
const OWNER_CACHE = 4_096;

export interface SessionsDeps extends Pick<ServiceCore, 'store' | 'clock' | 'bus'> {
  recovery: Recovery;
  settings: SessionSettings;
  onError: (err: unknown) => void;
}

export class WorkerSessions {
  private readonly sessions = new Set<Session>();
  private readonly owners = new Map<string, string>(); // attempt id → worker id (never changes)
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly off: () => void;
  private closed = false;

  private readonly store: SessionsDeps['store'];
  private readonly recovery: Recovery;
  private readonly clock: SessionsDeps['clock'];
  private readonly s: SessionSettings;
  private readonly onError: (err: unknown) => void;

  constructor(d: SessionsDeps) {
    ({ store: this.store, recovery: this.recovery, clock: this.clock, settings: this.s, onError: this.onError } = d);
    this.off = d.bus.on('job-changed', (job) => void this.route(job).catch(this.onError));
  }

  get open(): number {
    return this.sessions.size;
  }

  /**
   * A session for the boot prefix `remote:<token>:<node>:<boot>:`. Attempts of the node's earlier
   * boots died with them: recovered now. Returns the function to call when the connection closes.
   */
  async start(prefix: string, write: (text: string) => void, endStream: () => void): Promise<(graceful: boolean) => void> {
    const node = prefix.replace(/[^:]+:$/, '');
    await this.recovery.tick({ prefix: node, except: prefix });
    const ping = setInterval(() => session.send({ type: 'ping' }), this.s.pingMs);
    const session: Session = {
      prefix,
      send: (line) => write(`${JSON.stringify(line)}\n`),
      end: () => {
        clearInterval(ping);
        endStream();
      },
    };
    this.sessions.add(session);
    session.send({ type: 'hello' });
    return (graceful) => {
      if (!this.sessions.delete(session)) return;
      clearInterval(ping);
      if (this.closed) return;
      if (graceful) void this.recoverNow(prefix).catch(this.onError);
      else this.recoverLater(prefix, this.clock.now());
    };
  }

  /** The worker said goodbye (graceful stop): its attempts are lost now, not a lease later. */
  async recoverNow(prefix: string): Promise<void> {
    await this.recovery.tick({ prefix, except: NO_EXCEPTION });
  }

  /** Connection dropped: recovered after the grace unless the boot registered again since (it reconnected, maybe to another replica). */
  private recoverLater(prefix: string, droppedAt: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void (async () => {
        if ([...this.sessions].some((x) => x.prefix === prefix)) return;
        const alive = (await this.store.listWorkers()).some((w) => w.id.startsWith(prefix) && w.last_seen_at > droppedAt);
        if (!alive) await this.recoverNow(prefix);
      })().catch(this.onError);
    }, this.s.graceMs);
    t.unref();
    this.timers.add(t);
  }

  private async route(job: Job): Promise<void> {
    const aid = job.current_attempt_id;
    if (this.sessions.size === 0 || !aid) return;
    let owner = this.owners.get(aid);
    if (owner === undefined) {
      owner = (await this.store.getAttempt(aid))?.worker_id ?? '';
      if (this.owners.size >= OWNER_CACHE) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(aid, owner);
    }
    for (const s of this.sessions) if (owner.startsWith(s.prefix)) s.send({ type: 'status', job_uuid: job.uuid, attempt_id: aid, status: job.status });
  }

  /** Shutdown of this replica: streams end (workers reconnect elsewhere); nothing is recovered. */
  close(): void {
    this.closed = true;
    this.off();
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sessions) s.end();
    this.sessions.clear();
  }
}
