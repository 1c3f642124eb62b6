/**
 * Time source for the service: leases, grace budgets, record timestamps, signed-URL expiry and
 * migrations all come from a Clock, so tests move time instead of sleeping; the blob stores take it
 * too (scratch names, and the sweeps that compare file mtimes or object-store times with it).
 * Date.now() is read directly only in the CLI and client, which run in the user's process.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; used by tests of lease expiry and grace budgets. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2026-01-01T00:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
