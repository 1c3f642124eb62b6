/**
 * The route fuzzer's HTTP/1.1 client over raw node:net sockets: it sends exactly the bytes it is
 * given (request targets no client library would send, Content-Length larger than the body, both
 * Content-Length and Transfer-Encoding, half-closed sockets), then reads one response with its own
 * small parser. One socket per request, so nothing leaks from one fuzzed request into the next; it is
 * closed once the answer is complete (a keep-alive answer has a length or chunked framing).
 *
 * Every exchange is bounded (`boundMs`): no status line and no close by then is a hang. A streaming
 * answer (SSE, the worker session's NDJSON) counts as answered once its headers arrived; the socket
 * is then closed.
 */
import { connect } from 'node:net';

export interface WireExchange {
  /** Request line and headers, CRLF-terminated, ending in the empty line. */
  head: Buffer;
  body: Buffer;
  /** End our side once the bytes are out (a truncated body: the server sees the client hang up). */
  halfClose: boolean;
  /** HEAD: a response without a body whatever its headers say. */
  headRequest: boolean;
  boundMs: number;
}

export interface WireResponse {
  /** 0 when the server closed (or reset) without a status line. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server never answered nor closed within the bound. */
  hung: boolean;
  /** Writing our bytes failed (EPIPE/ECONNRESET: the server closed before reading the request). */
  writeError: string | null;
  /** The connection broke while reading (after or instead of a status line). */
  readError: string | null;
  /** The response was complete (length, chunked end, or close after a length-less body). */
  complete: boolean;
  ms: number;
}

const STREAMING = /^(text\/event-stream|application\/x-ndjson)/i;

interface Parsed {
  status: number;
  headers: Record<string, string>;
  bodyStart: number;
}

/** The final response's head: interim 1xx answers (100 Continue) before it are skipped. */
function parseHead(buf: Buffer): Parsed | null {
  let from = 0;
  for (;;) {
    const p = parseOneHead(buf, from);
    if (!p || p.status < 100 || p.status >= 200) return p;
    from = p.bodyStart;
  }
}

function parseOneHead(buf: Buffer, from: number): Parsed | null {
  const end = buf.indexOf('\r\n\r\n', from);
  if (end < 0) return null;
  const lines = buf.subarray(from, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] === undefined ? line.slice(i + 1).trim() : `${headers[k]}, ${line.slice(i + 1).trim()}`;
    }
  }
  return { status: m ? Number(m[1]) : -1, headers, bodyStart: end + 4 };
}

/** The decoded body of a chunked message, or null while incomplete. */
function dechunk(buf: Buffer): Buffer | null {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) return Buffer.concat(out); // malformed framing: take what we have
    if (size === 0) return Buffer.concat(out);
    if (buf.length < eol + 2 + size + 2) return null;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** What we know of the response so far: complete (with body), or undefined to keep reading. */
function tryComplete(buf: Buffer, x: WireExchange): { p: Parsed; body: Buffer } | undefined {
  const p = parseHead(buf);
  if (!p) return undefined;
  const rest = buf.subarray(p.bodyStart);
  if (x.headRequest || p.status === 204 || p.status === 304) return { p, body: Buffer.alloc(0) };
  if (p.status >= 200 && p.status < 300 && STREAMING.test(p.headers['content-type'] ?? '')) return { p, body: rest };
  if (/chunked/i.test(p.headers['transfer-encoding'] ?? '')) {
    const body = dechunk(rest);
    return body ? { p, body } : undefined;
  }
  const len = p.headers['content-length'];
  if (len !== undefined && /^\d+$/.test(len)) return rest.length >= Number(len) ? { p, body: rest.subarray(0, Number(len)) } : undefined;
  return undefined; // no length: the body ends with the connection
}

export function exchange(port: number, x: WireExchange): Promise<WireResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let writeError: string | null = null;
    let readError: string | null = null;
    let sent = false; // every byte of ours was handed to the kernel
    let settled = false;
    const finish = (hung: boolean, closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const buf = Buffer.concat(chunks);
      const done = tryComplete(buf, x);
      const p = done?.p ?? parseHead(buf);
      resolve({
        status: p ? p.status : 0,
        headers: p?.headers ?? {},
        body: done?.body ?? (p ? buf.subarray(p.bodyStart) : Buffer.alloc(0)),
        hung,
        writeError,
        readError,
        complete: done !== undefined || (closed && p !== null && readError === null),
        ms: performance.now() - started,
      });
    };
    const timer = setTimeout(() => finish(true, false), x.boundMs);
    // Like a client that sends its whole body before it reads (the official Python client): an answer
    // counts only once our last byte went out, or the sending failed (then writeError says how).
    let answered = false;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!tryComplete(Buffer.concat(chunks), x)) return;
      answered = true;
      if (sent || writeError) finish(false, false);
    });
    // The server's FIN may come before it resets the rest of our body: wait for our write to end.
    let ended = false;
    socket.on('end', () => {
      ended = true;
      if (sent || writeError) finish(false, true);
    });
    socket.on('close', () => {
      if (!sent) writeError ??= 'the connection closed before the whole request was sent';
      finish(false, true);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const what = e.code ?? e.message;
      if (sent) readError ??= what; // a reset after our bytes went out
      else writeError ??= what; // EPIPE/ECONNRESET while we were still sending
    });
    socket.on('connect', () => {
      socket.write(x.head);
      socket.write(x.body, (err) => {
        if (err) {
          writeError ??= (err as NodeJS.ErrnoException).code ?? err.message;
          if (answered || ended) finish(false, ended);
          return;
        }
        sent = true;
        if (answered || ended) finish(false, ended);
        else if (x.halfClose) socket.end();
      });
    });
  });
}
