/**
 * LISTEN side of the wake-ups: one dedicated connection (outside the pool, which must not lose a
 * connection to an endless LISTEN) shared by every subscriber of this store.
 * Invariants: after `subscribe` resolves, every NOTIFY committed on that channel reaches `fn` while the
 * connection lives; when it breaks, the listener reconnects with capped backoff (100 ms … 1 s, forever,
 * until close), LISTENs again on every channel, then calls every subscriber once with payload '' —
 * "notifications may have been missed while disconnected: re-check" — because NOTIFY is not queued
 * for a listener that is not connected.
 */
import pg from 'pg';
import { backoffDelay } from '../../lib/backoff.js';
import { quoteIdent } from './pg-db.js';

export type NotifyHandler = (payload: string) => void;

/**
 * 1 s cap: the wake-ups of every replica depend on this connection, and a restarted server accepts
 * connections within a second or two of starting (test/pg-restart.test.ts), so a replica should not
 * sleep through its return. While the server stays down that is one refused connect per replica
 * every 0.5 s on average: nothing.
 */
const RECONNECT = { baseMs: 100, maxMs: 1_000 } as const;

export class PgListener {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private readonly handlers = new Map<string, Set<NotifyHandler>>();
  private readonly listening = new Map<string, Promise<void>>(); // the LISTEN of the first subscriber
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly config: pg.ClientConfig, private readonly onError: (err: unknown) => void = () => undefined) {}

  /** Resolves once LISTEN is active; the returned function unsubscribes. */
  async subscribe(channel: string, fn: NotifyHandler): Promise<() => void> {
    if (this.closed) throw new Error('postgres listener: closed');
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(fn);
    try {
      // A connect in progress LISTENs on every channel in `handlers`, this one included.
      const c = await this.ensure();
      // Later subscribers of the channel wait for the same LISTEN: none resolves before it is active.
      let active = this.listening.get(channel);
      if (!active) {
        const p = c.query(`LISTEN ${quoteIdent(channel)}`).then(() => undefined);
        p.catch(() => this.listening.get(channel) === p && this.listening.delete(channel)); // the next subscriber tries again
        this.listening.set(channel, (active = p));
      }
      await active;
    } catch (err) {
      this.remove(channel, fn);
      throw err;
    }
    return () => this.remove(channel, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client ?? (await this.connecting?.catch(() => null)) ?? null;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private remove(channel: string, fn: NotifyHandler): void {
    const set = this.handlers.get(channel);
    if (!set?.delete(fn) || set.size > 0) return;
    this.handlers.delete(channel);
    this.listening.delete(channel);
    this.client?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined); // a broken connection listens to nothing anyway
  }

  private ensure(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const c = new pg.Client(this.config);
    c.on('notification', (n) => this.deliver(n.channel, n.payload ?? ''));
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c, new Error('postgres listener: connection ended')));
    try {
      await c.connect();
      for (const ch of this.handlers.keys()) {
        await c.query(`LISTEN ${quoteIdent(ch)}`);
        this.listening.set(ch, Promise.resolve());
      }
    } catch (err) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await c.end().catch(() => undefined);
      throw new Error('postgres listener: closed');
    }
    this.client = c;
    return c;
  }

  private deliver(channel: string, payload: string): void {
    for (const fn of [...(this.handlers.get(channel) ?? [])]) {
      try {
        fn(payload);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** The connection broke: forget it and reconnect (once per client, whichever of error/end comes first). */
  private lost(c: pg.Client, err: unknown): void {
    c.removeAllListeners('end');
    c.removeAllListeners('error');
    c.on('error', () => undefined);
    if (this.client !== c) return;
    this.client = null;
    this.listening.clear(); // the next connection LISTENs again on every channel
    void c.end().catch(() => undefined);
    if (this.closed) return;
    this.onError(err);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const delay = backoffDelay(++this.failures, RECONNECT);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ensure().then(
        () => {
          this.failures = 0;
          for (const ch of [...this.handlers.keys()]) this.deliver(ch, '');
        },
        (err: unknown) => {
          this.onError(err);
          this.schedule();
        },
      );
    }, delay);
    this.timer.unref(); // a reconnect alone must not keep the process alive
  }
}
