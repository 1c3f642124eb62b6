/**
 * Multipart bodies that end wrong are answered, and leave nothing behind. The multipart parser
 * (@fastify/multipart over busboy) does not end or destroy a file part when the body stops before
 * the part's closing boundary (no closing boundary, a fields limit reached before the file, a client
 * that hangs up): the consumer then waited forever, holding a file descriptor and a temp file until
 * restart. guardPart() watches the request: once it is over (ended or closed) and the parser can give
 * the part nothing more, the part is destroyed with an error, so the staging write fails and removes
 * its temp file, and the route answers 400.
 */
import type { IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import { FtError } from '../domain/errors.js';

/** How often an over request is re-checked while its part still holds unread bytes (a slow disk). */
const RECHECK_MS = 50;

export const TRUNCATED_MESSAGE = 'the multipart body ended before the file part was complete (no closing boundary, or the connection closed): nothing was stored';

/** A multipart/form-data Content-Type without a boundary cannot be parsed: 400 before reading. */
export function requireBoundary(req: { headers: Record<string, unknown> }): void {
  const type = String(req.headers['content-type'] ?? '');
  if (/^multipart\/form-data/i.test(type) && !/;\s*boundary\s*=\s*("?)[^";]+\1/i.test(type)) {
    throw new FtError('invalid_parameter', 'Content-Type multipart/form-data needs a boundary parameter (multipart/form-data; boundary=…)');
  }
}

interface PartState {
  ended?: boolean; // end of data pushed by the parser (not yet read by the consumer)
}

/** Destroys `part` once `raw` is over and the parser will never push it more; returns the disposer. */
export function guardPart(raw: IncomingMessage, part: Readable): () => void {
  let timer: NodeJS.Timeout | null = null;
  let disposed = false;
  const check = (): void => {
    timer = null;
    if (disposed || part.destroyed || part.readableEnded) return;
    const state = (part as unknown as { _readableState?: PartState })._readableState;
    if (state?.ended) return; // complete, still being read
    // Nothing buffered means the parser is not held back by this part: it has seen every byte it
    // will ever get, and still no end. Bytes buffered: the consumer is busy; look again shortly.
    if (part.readableLength > 0) {
      timer = setTimeout(check, RECHECK_MS);
      return;
    }
    part.destroy(new FtError('invalid_parameter', TRUNCATED_MESSAGE));
  };
  const onOver = (): void => {
    if (!disposed && !timer) timer = setTimeout(check, 0);
  };
  raw.once('end', onOver).once('close', onOver);
  if (raw.readableEnded || raw.destroyed) onOver();
  return () => {
    disposed = true;
    if (timer) clearTimeout(timer);
    raw.off('end', onOver).off('close', onOver);
  };
}

/** Parser errors (busboy's plain Errors, the plugin's limit errors) → a 400 in the catalogue. */
export function multipartError(err: unknown): FtError | null {
  if (err instanceof FtError) return err;
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? '');
  if (e.code === 'FST_FIELDS_LIMIT') return new FtError('invalid_parameter', 'too many form fields before the file part (at most 10): send the file part "file" with at most 10 other fields');
  if (e.code === 'FST_PARTS_LIMIT') return new FtError('invalid_parameter', 'too many parts in the multipart body');
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || /terminated early|Unexpected end/i.test(message)) return new FtError('invalid_parameter', TRUNCATED_MESSAGE);
  if (/Boundary not found|Malformed|Unsupported Content-Type/i.test(message)) return new FtError('invalid_parameter', `the multipart body could not be parsed: ${message}`);
  return null;
}

/**
 * `part` with its end held back until the whole request has arrived (`raw.complete`): a body whose
 * multipart framing closes before its Content-Length is reached, and whose connection then ends, is
 * answered 400 by the HTTP parser, so what the part fed must not be committed. A consumer that
 * commits on the stream's end therefore commits only complete requests; on a request that closes
 * short the stream fails with TRUNCATED_MESSAGE instead (found by the route fuzzer, seed 658504510:
 * a checkpoint stored after its 400, docs/testing.md). The caller must keep reading the parts that
 * follow, or the request can never complete.
 */
export function endWithRequest(raw: IncomingMessage, part: Readable): Readable {
  const gate = new Transform({
    transform: (chunk: Buffer, _encoding, done) => done(null, chunk),
    flush: (done) => {
      const settle = (): void => {
        raw.off('end', settle).off('close', settle);
        done(raw.complete ? null : new FtError('invalid_parameter', TRUNCATED_MESSAGE));
      };
      if (raw.complete || raw.destroyed) return settle();
      raw.once('end', settle).once('close', settle);
    },
  });
  pipeline(part, gate, () => undefined); // an error on either side destroys both; the consumer sees it on `gate`
  return gate;
}
