/**
 * Turns a generated FuzzCase into the exact bytes sent (request line, headers, body, framing) with
 * the seeded resources resolved, and says what the invariants need to know about it: did it carry
 * valid credentials for its route, is it well formed at the HTTP level (so a missing key must be a
 * 401), does it name another organization's resource, can it change anything.
 */
import { createHash } from 'node:crypto';
import type { FuzzCase, JsonMutation, MultipartSpec, Piece } from './fuzz-arbs.js';
import { plainValue, sampleJson, sampleReport } from './fuzz-routes.js';
import { TEST_KEY } from './harness.js';
import type { Seeds } from './fuzz-seed.js';
import type { WireExchange } from './fuzz-wire.js';

/** Fastify's JSON body limit (server.ts): 16 MiB. */
export const BODY_LIMIT = 16 * 1024 * 1024;
/** find-my-way's default maxParamLength: a longer parameter does not match the route. */
const MAX_PARAM = 100;
const BOUNDARY = 'fuzzB0undary7MA4YWxkTrZu0gW';
const SAMPLE_FILE = '{"prompt":"a","completion":"b"}\n';

export interface Rendered {
  wire: WireExchange;
  target: string;
  /** Credentials valid for the route's kind (user key, worker token; public and signed routes: true). */
  authorized: boolean;
  /** Nothing odd below the route: framing, header sizes, target bytes; a missing key must be a 401. */
  clean: boolean;
  /** A path parameter names the other organization's resource (404, never 2xx). */
  crossOrg: boolean;
  mutating: boolean;
  /** POST /v0.5/files/base64: the text of the file part (an answer 2xx must mean it was strict base64). */
  base64Text: string | null;
}

function percentAll(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

function pieceText(p: Piece, seeds: Seeds, url = ''): string {
  if ('raw' in p) return p.raw;
  if (p.ref.startsWith('plain:')) return plainValue(url, p.ref.slice(6));
  const v = String(seeds.resolve(p.ref));
  return p.encode ? percentAll(v) : encodeURIComponent(v);
}

/** Every string `@@<reference>` replaced by the seeded value (any JSON). */
function resolveDeep(v: unknown, seeds: Seeds): unknown {
  if (typeof v === 'string' && v.startsWith('@@') && v.slice(2) in seeds.values) return seeds.values[v.slice(2)];
  if (Array.isArray(v)) return v.map((x) => resolveDeep(x, seeds));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveDeep(x, seeds)]));
  return v;
}

/** JSON text with `@@num:<literal>` spelled as a bare number and `@@bad-utf8` as invalid UTF-8 bytes in a string. */
function jsonBytes(v: unknown, seeds: Seeds): Buffer {
  const text = (JSON.stringify(resolveDeep(v, seeds)) ?? 'null').replace(/"@@num:([^"]*)"/g, '$1');
  const parts = text.split('"@@bad-utf8"');
  const bad = Buffer.from([0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22]);
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [Buffer.from(p)] : [bad, Buffer.from(p)])));
}

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slots(root: unknown): { children: Slot[]; containers: Array<Record<string, unknown> | unknown[]> } {
  const children: Slot[] = [];
  const containers: Array<Record<string, unknown> | unknown[]> = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const c = v as Record<string, unknown> | unknown[];
    containers.push(c);
    for (const k of Array.isArray(c) ? c.keys() : Object.keys(c)) {
      children.push({ parent: c, key: k });
      walk((c as Record<string | number, unknown>)[k]);
    }
  };
  walk(root);
  return { children, containers };
}

export function mutate(sample: unknown, mutations: JsonMutation[]): unknown {
  let body = structuredClone(sample);
  for (const m of mutations) {
    if (m.op === 'wrap') {
      body = [body];
      continue;
    }
    const { children, containers } = slots(body);
    if (m.op === 'add') {
      const c = containers[m.at % Math.max(1, containers.length)];
      if (Array.isArray(c)) c.push(m.value);
      else if (c) Object.defineProperty(c, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (children.length === 0) {
      if (m.op === 'set') body = m.value;
      continue;
    }
    const s = children[m.at % children.length]!;
    if (m.op === 'drop') {
      if (Array.isArray(s.parent)) s.parent.splice(Number(s.key), 1);
      else delete s.parent[s.key as string];
    } else (s.parent as Record<string | number, unknown>)[s.key] = structuredClone(m.value);
  }
  return body;
}

function fileBytes(mp: MultipartSpec, base64Route: boolean): Buffer {
  const c = mp.content;
  if (c.kind === 'sample') return Buffer.from(base64Route ? Buffer.from(SAMPLE_FILE).toString('base64') : SAMPLE_FILE);
  if (c.kind === 'hex') return Buffer.from(c.hex, 'hex');
  return Buffer.from(c.text);
}

function multipart(fc: FuzzCase, seeds: Seeds): { body: Buffer; type: string } {
  const mp = fc.body.kind === 'multipart' ? fc.body.mp : null!;
  const content = fileBytes(mp, fc.route.url.endsWith('/base64'));
  const out: Buffer[] = [];
  const field = (name: string, value: Buffer | string): void => {
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n'));
  };
  for (let i = 0; i < mp.fieldsBefore; i++) field(`field${i}`, `value ${i}`);
  if (mp.report !== 'none') {
    const valid = sampleReport(fc.route, content.length, createHash('sha256').update(content).digest('hex'));
    if (mp.report === 'valid') field('report', jsonBytes(valid, seeds));
    else if ('text' in mp.report) field('report', mp.report.text);
    else field('report', jsonBytes(mutate(valid, mp.report.mutations), seeds));
  }
  const name = 'raw' in mp.filename ? mp.filename.raw : String(seeds.resolve(mp.filename.ref));
  const filePart = (n: string, bytes: Buffer): void => {
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${mp.fileField}"; filename="${n}"\r\nContent-Type: ${mp.fileType}\r\n\r\n`), bytes);
  };
  filePart(name, content);
  for (let i = 0; i < mp.extraFileParts; i++) {
    out.push(Buffer.from('\r\n'));
    filePart(`extra-${i}.txt`, Buffer.from(`extra ${i}\n`));
  }
  out.push(Buffer.from(mp.closing ? `\r\n--${BOUNDARY}--\r\n` : '\r\n'));
  const type = { ok: `multipart/form-data; boundary=${BOUNDARY}`, missing: 'multipart/form-data', other: 'multipart/form-data; boundary=someOtherBoundary', quoted: `multipart/form-data; boundary="${BOUNDARY}"`, empty: 'multipart/form-data; boundary=' }[mp.header];
  return { body: Buffer.concat(out), type };
}

function body(fc: FuzzCase, seeds: Seeds): { bytes: Buffer; type: string | null } {
  const b = fc.body;
  switch (b.kind) {
    case 'none':
      return { bytes: Buffer.alloc(0), type: null };
    case 'sample':
      return { bytes: jsonBytes(mutate(sampleJson(fc.route), b.mutations), seeds), type: 'application/json' };
    case 'json':
      return { bytes: jsonBytes(b.value, seeds), type: 'application/json' };
    case 'text':
      return { bytes: Buffer.from(b.text), type: 'application/json' };
    case 'hex':
      return { bytes: Buffer.from(b.hex, 'hex'), type: 'application/octet-stream' };
    case 'huge': {
      const bytes = Buffer.alloc(BODY_LIMIT + b.over, 0x61);
      bytes[0] = 0x22;
      bytes[bytes.length - 1] = 0x22; // one JSON string, over the limit by `over` bytes
      return { bytes, type: 'application/json' };
    }
    case 'multipart': {
      const m = multipart(fc, seeds);
      return { bytes: m.body, type: m.type };
    }
  }
}

function spell(path: string, how: FuzzCase['spelling']): string {
  switch (how) {
    case 'plain':
      return path;
    case 'v-encoded':
      return path.startsWith('/v') ? `/%76${path.slice(2)}` : path;
    case 'dot-encoded':
      return path.replace('.', '%2E');
    case 'absolute':
      return `http://x${path}`;
    case 'double-slash':
      return path.replace(/\/([^/]*)$/, '//$1');
    case 'trailing-slash':
      return `${path}/`;
    case 'dot-segment':
      return path.replace(/^(\/[^/]+)\//, '$1/./');
  }
}

function chunked(b: Buffer): Buffer {
  if (b.length === 0) return Buffer.from('0\r\n\r\n');
  const half = b.length >> 1 || b.length;
  const pieces = [b.subarray(0, half), b.subarray(half)].filter((p) => p.length > 0);
  return Buffer.concat([...pieces.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
}

function credentials(fc: FuzzCase, seeds: Seeds): string | null {
  switch (fc.auth) {
    case 'own':
      return `Bearer ${TEST_KEY}`;
    case 'other':
      return `Bearer ${seeds.otherKey}`;
    case 'worker':
      return `Bearer ${seeds.workerToken}`;
    case 'none':
      return null;
    case 'garbage':
      return 'Bearer sk_nope_0123456789abcdefghijklmnopqrstuvwx';
    case 'malformed':
      return 'Basic Zm9vOmJhcg==';
  }
}

const wellFormedTarget = (target: string, segments: string[]): boolean => {
  if (!/^[\x21-\x7e]+$/.test(target)) return false;
  try {
    decodeURIComponent(target);
  } catch {
    return false;
  }
  return segments.every((s) => {
    try {
      return decodeURIComponent(s).length <= MAX_PARAM;
    } catch {
      return false;
    }
  });
};

export function render(fc: FuzzCase, seeds: Seeds, port: number): Rendered {
  const { route } = fc;
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(fc.params)) values[name] = pieceText(p, seeds, route.url);
  const path = route.url.replace(/:([a-z_]+)/g, (_m, n: string) => values[n]!).replace(/\*$/, () => values['*']!);
  // `@@signed` stands for the seeded part URL's whole query (expires=…&sig=…), sent as it came.
  const queryText = fc.query.map(([k, v]) => (k === '@@signed' && 'ref' in v ? String(seeds.resolve(v.ref)) : `${k}=${pieceText(v, seeds)}`)).join('&');
  const target = spell(path, fc.spelling) + (queryText ? `?${queryText}` : '');

  const b = body(fc, seeds);
  const type = fc.contentType === 'auto' ? b.type : fc.contentType;
  const lines = [`${route.method} ${target} HTTP/1.1`];
  const hostOverride = fc.headers.find(([k]) => k === 'host');
  lines.push(`host: ${hostOverride ? hostOverride[1] : `127.0.0.1:${port}`}`);
  if (!fc.keepAlive) lines.push('connection: close');
  const auth = credentials(fc, seeds);
  if (auth) lines.push(`authorization: ${auth}`);
  if (type !== null) lines.push(`content-type: ${type}`);
  for (const [k, v] of fc.headers) {
    if (k === 'host') continue;
    // Only a known reference is substituted (as in the body, above): a generated value such as '@@'
    // (seed 32549181) is sent as it is.
    lines.push(`${k}: ${v.startsWith('@@') && v.slice(2) in seeds.values ? String(seeds.resolve(v.slice(2))) : v}`);
  }
  let payload = b.bytes;
  const n = payload.length;
  const bodyMethod = !['GET', 'HEAD'].includes(route.method);
  switch (fc.framing) {
    case 'exact':
      if (n > 0 || bodyMethod) lines.push(`content-length: ${n}`);
      break;
    case 'chunked':
      lines.push('transfer-encoding: chunked');
      payload = chunked(payload);
      break;
    case 'long-close':
      lines.push(`content-length: ${n + 1 + (n % 997)}`); // promises more than comes, then hangs up
      break;
    case 'cl-te':
      lines.push(`content-length: ${n}`, 'transfer-encoding: chunked');
      payload = chunked(payload);
      break;
    case 'bad-cl': {
      const bad = ['abc', '-1', '1.5', '99999999999999999999', `${n}, ${n + 1}`, ' ', `${n}\r\ncontent-length: ${n + 7}`];
      lines.push(`content-length: ${bad[n % bad.length]}`);
      break;
    }
    case 'short-cl':
      lines.push(`content-length: ${n >> 1}`);
      break;
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  // Headers the HTTP parser refuses before any route: over 16 KB, a second framing header, a control byte.
  const big = fc.headers.some(([k]) => k === 'x-fuzz-big' || k === 'transfer-encoding') || head.length > 16 * 1024 ||
    lines.slice(1).some((l) => !/^[\x20-\x7e\t]*$/.test(l));
  const authorized = route.auth === 'public' || route.auth === 'signed' ||
    (route.auth === 'key' ? fc.auth === 'own' || fc.auth === 'other' : fc.auth === 'worker');
  const refs = Object.values(fc.params).flatMap((p) => ('ref' in p ? [p.ref] : []));
  const crossOrg = route.auth === 'key' && ((fc.auth === 'own' && refs.some((r) => r.startsWith('other.'))) || (fc.auth === 'other' && refs.some((r) => r.startsWith('own.'))));
  return {
    wire: { head, body: payload, halfClose: fc.framing === 'long-close', headRequest: route.method === 'HEAD', boundMs: 10_000 },
    target,
    authorized,
    clean: (fc.framing === 'exact' || fc.framing === 'chunked') && !big && !hostOverride && wellFormedTarget(target, Object.values(values)),
    crossOrg,
    mutating: bodyMethod || fc.framing !== 'exact',
    base64Text: route.url.endsWith('/base64') && fc.body.kind === 'multipart' ? fileBytes(fc.body.mp, true).toString('latin1') : null,
  };
}
