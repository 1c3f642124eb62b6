/**
 * Reading a request body nobody will store, so the answer reaches clients that send their whole body
 * before they read (the official Python client, Python http.client, Node fetch): if the server answers
 * and closes with bytes still unread, the kernel resets the connection and such a client sees a broken
 * pipe instead of the 413 or 400. Draining is bounded: past DRAIN_LIMIT_BYTES the connection is closed
 * after the answer instead (a 16 MiB JSON limit is not worth reading 10 GB for).
 */
import type { IncomingMessage } from 'node:http';

/** 256 MiB: about 0.5 s of loopback traffic here; a bigger body is closed on after the answer. */
export const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;

/** Reads the rest of a request body and throws it away. */
export async function drainBody(raw: IncomingMessage): Promise<void> {
  await drainBounded(raw, Number.POSITIVE_INFINITY);
}

/** Reads and discards at most `maxBytes` more; true when the body ended within them. */
export async function drainBounded(raw: IncomingMessage, maxBytes = DRAIN_LIMIT_BYTES): Promise<boolean> {
  if (raw.readableEnded || raw.destroyed) return raw.readableEnded;
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return false; // certainly too much: do not start
  return new Promise<boolean>((resolve) => {
    let seen = 0;
    const finish = (ended: boolean): void => {
      raw.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) {
        raw.pause();
        finish(false);
      }
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(raw.readableEnded);
    raw.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onClose);
    raw.unpipe(); // a parser that stopped reading would hold the body back
    raw.resume();
  });
}
