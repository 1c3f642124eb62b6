/**
 * The route fuzzer's invariants, checked on every answer: answered within the bound (no hang), never
 * a 5xx, every 4xx in the documented envelope with a code from the catalogue, a request without valid
 * credentials never served (a 401 when it is otherwise well formed), another organization's resource
 * never served, a whole request body readable by the server before it answers, a 2xx JSON answer that
 * parses, echoes no page value past 2^31-1, and (base64 upload) decoded strict base64. And "nothing stored
 * after a 4xx": both organizations' file and job lists and the data directory (every file's size and
 * mtime, except the SQLite database and its WAL) are the same after the answer as before the request.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERROR_CATALOGUE } from '../../src/domain/errors.js';
import type { FuzzCase } from './fuzz-arbs.js';
import type { Rendered } from './fuzz-request.js';
import type { Seeds } from './fuzz-seed.js';
import type { WireResponse } from './fuzz-wire.js';

export function envelopeProblem(body: Buffer, contentType: string | undefined): string | null {
  if (!/^application\/json/i.test(contentType ?? '')) return `content-type '${contentType ?? ''}' is not application/json`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!parsed || typeof parsed !== 'object' || Object.keys(parsed).join() !== 'errors' || !Array.isArray(errors) || errors.length === 0) {
    return 'the body is not {"errors": [...]} with at least one error';
  }
  for (const e of errors as Array<Record<string, unknown>>) {
    const keys = Object.keys(e ?? {}).sort().join();
    if (keys !== 'code,error_uid,message,suggestion') return `an error has keys [${keys}], not code, message, suggestion, error_uid`;
    if (!Object.values(e).every((v) => typeof v === 'string')) return 'an error field is not a string';
    if (!(String(e.code) in ERROR_CATALOGUE)) return `code '${String(e.code)}' is not in the catalogue`;
  }
  return null;
}

/** RFC 4648 base64 (either alphabet), whitespace ignored: whole 4-character groups, padding only at the end. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}==|[A-Za-z0-9+/_-]{3}=)?$/;
/** query.ts clamps page values to 2^31 - 1; an answer echoing more repeats the client's number unchecked. */
const MAX_PAGE_VALUE = 2 ** 31 - 1;

function oracleProblems(c: FuzzCase, r: Rendered, res: WireResponse): string[] {
  const out: string[] = [];
  if (r.base64Text !== null && !STRICT_BASE64.test(r.base64Text.replace(/\s+/g, ''))) out.push(`accepted ${JSON.stringify(r.base64Text.slice(0, 40))}, which is not strict base64`);
  if (/^application\/json/i.test(res.headers['content-type'] ?? '') && c.route.method !== 'HEAD' && res.complete) {
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      return [...out, `a ${res.status} with an application/json body that does not parse`];
    }
    for (const k of ['limit', 'offset']) {
      const v = (body as Record<string, unknown> | null)?.[k];
      if (typeof v === 'number' && !(Number.isSafeInteger(v) && v <= MAX_PAGE_VALUE)) out.push(`the answer's ${k} is ${v}: a page value past 2^31-1 echoed unclamped`);
    }
  }
  return out;
}

/** Violations of the per-answer invariants (empty: the answer is fine). */
export function answerProblems(c: FuzzCase, r: Rendered, res: WireResponse): string[] {
  const out: string[] = [];
  if (res.hung) return [`no answer within ${r.wire.boundMs} ms (hang)`];
  if (res.status === 0 && c.framing !== 'long-close') out.push(`the connection closed without an answer (${res.writeError ?? res.readError ?? 'clean close'})`);
  if (res.writeError && (c.framing === 'exact' || c.framing === 'chunked')) {
    out.push(`the server stopped reading before the request body was sent (${res.writeError}): a client that sends its whole body first never sees the answer`);
  }
  if (res.status === 0) return out;
  if (res.status < 100 || res.status >= 500) out.push(`status ${res.status}`);
  if (res.status >= 400 && res.status < 500 && c.route.method !== 'HEAD') {
    const bad = envelopeProblem(res.body, res.headers['content-type']);
    if (bad) out.push(`a ${res.status} outside the error envelope: ${bad}`);
  }
  const ok = res.status >= 200 && res.status < 400;
  if (ok && !r.authorized) out.push(`answered ${res.status} without valid credentials for a '${c.route.auth}' route`);
  if (!r.authorized && r.clean && (c.route.auth === 'key' || (c.route.auth === 'worker' && c.spelling === 'plain')) && res.status !== 401) {
    out.push(`a well-formed request without valid credentials answered ${res.status}, not 401`);
  }
  if (ok && r.crossOrg) out.push(`another organization's resource answered ${res.status}`);
  if (ok) out.push(...oracleProblems(c, r, res));
  return out;
}

export interface State {
  lists: string[];
  disk: Map<string, string>;
}

/** The SQLite database and its journal change on every write; everything else under home is data. */
const NOT_DATA = /(\.(db|sqlite3?)(-wal|-shm|-journal)?$)|(^|\/)logs\//;

function walk(root: string, dir: string, out: Map<string, string>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // removed while we looked (a temp folder)
  }
  for (const name of names) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      const rel = relative(root, p);
      if (st.isDirectory()) walk(root, p, out);
      else if (!NOT_DATA.test(rel)) out.set(rel, `${st.size} bytes, mtime ${st.mtimeMs}`);
    } catch {
      // removed between readdir and stat
    }
  }
}

export async function snapshot(seeds: Seeds): Promise<State> {
  const { app, home } = seeds.t;
  const lists: string[] = [];
  for (const [who, org] of [['own', seeds.ownOrg], ['other', seeds.otherOrg]] as const) {
    for (const f of await app.files.list(org, -1, -1)) lists.push(`${who} file ${f.file_id} ${f.file_uid}`);
    // keys only (uuid from the list index): a full list parses every record, 2 ms per request at 300 jobs
    for (const j of await app.jobs.listViewKeys(org, { limit: -1, offset: 0, api_versions: ['v0.5', 'v0.6', 'batch'] })) lists.push(`${who} job ${j.uuid}`);
  }
  const disk = new Map<string, string>();
  walk(home, home, disk);
  return { lists: lists.sort(), disk };
}

/** What `after` has that `before` has not: list entries added or removed, files added or changed (files removed are collected garbage). */
export function stored(before: State, after: State): string[] {
  const was = new Set(before.lists);
  const is = new Set(after.lists);
  const out = [...is].filter((x) => !was.has(x)).map((x) => `added: ${x}`);
  out.push(...[...was].filter((x) => !is.has(x)).map((x) => `removed: ${x}`));
  for (const [p, v] of after.disk) {
    const old = before.disk.get(p);
    if (old === undefined) out.push(`new file ${p} (${v})`);
    else if (old !== v) out.push(`changed file ${p} (${old} → ${v})`);
  }
  return out;
}
