/** What every dashboard page receives: the client, the page's lifetime signal, the error reporter. */
import type { FtClient } from '../../src/client/index.js';

export interface PageCtx {
  client: FtClient;
  /** Aborted when the user leaves the page: stop polling, close streams. */
  signal: AbortSignal;
  /** Shows an error on the page (a 401 returns to sign-in instead). */
  onError(err: unknown): void;
}

/** Calls `fn` now and then every `ms` until the page is left; one call at a time, errors reported. */
export function poll(ctx: PageCtx, ms: number, fn: () => Promise<void>): void {
  const tick = async (): Promise<void> => {
    if (ctx.signal.aborted) return;
    try {
      await fn();
    } catch (err) {
      ctx.onError(err);
      if ((err as { status?: number })?.status === 401) return;
    }
    if (!ctx.signal.aborted) setTimeout(() => void tick(), document.hidden ? ms * 5 : ms);
  };
  void tick();
}
