/**
 * Every URL or path an answer carries resolves the way clients written for Archetype's API resolve
 * it (docs/files.md "URLs in answers"): their base ends in the version (`http://127.0.0.1:PORT/v0.5`);
 * a relative ref is fetched as `GET {base}{ref}` with the API key, an absolute one (`http(s)://…`) as
 * it is, with no key. Two real servers: one reached directly (relative output refs, part URLs from
 * the Host), one behind a path-prefix proxy with FTNODE_PUBLIC_URL (presigned output refs, part URLs
 * from the public URL); each runs a batch job end to end. Also: tampered and expired presigned refs
 * answer 403 `unauthorized` in the envelope, and a scan of the answers finds no URL-like field the
 * test does not know about.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { statusOf } from '../src/api/http-status.js';
import { loadConfig } from '../src/config/config.js';
import type { FtError } from '../src/domain/errors.js';
import { ManualClock, type Clock } from '../src/lib/clock.js';
import { OutputLinks } from '../src/service/batch/batch-links.js';
import { writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { Client, startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const AUTH = { authorization: `Bearer ${TEST_KEY}` };

/** How Archetype's clients fetch a `ref`: absolute as it is (no key), relative after their base (with the key). */
async function resolveRef(base: string, ref: string): Promise<Response> {
  return /^https?:\/\//.test(ref) ? fetch(ref) : fetch(base + ref, { headers: AUTH });
}

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

/** A clock the test can move forward (presigned expiry) while the workers run on real time. */
class SkewClock implements Clock {
  skew = 0;
  now(): number {
    return Date.now() + this.skew;
  }
}

/** A reverse proxy serving the app under `/ft` (as an ingress with a path prefix would). */
interface Proxy {
  port: number;
  target: string;
  close(): Promise<void>;
}
async function startProxy(prefix: string): Promise<Proxy> {
  const p: Proxy = { port: 0, target: '', close: async () => undefined };
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) return void res.writeHead(404).end('not under the prefix');
    const up = request(p.target + req.url.slice(prefix.length), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.port = (server.address() as { port: number }).port;
  p.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return p;
}

let files: SynthFiles;
let direct: TestApp; // relative output refs
let proxied: TestApp; // FTNODE_PUBLIC_URL behind the proxy: presigned output refs
let proxy: Proxy;
const clock = new SkewClock();
let directBase = '';
let proxiedBase = '';

before(async () => {
  files = await writeSynthetic(2, 400, 1);
  proxy = await startProxy('/ft');
  direct = await startTestApp({ plans: { quick: { steps: 2, evalEvery: 1 } }, overrides: { builtinWorkers: 1, uploadPartBytes: 4096 } });
  proxied = await startTestApp({
    overrides: { builtinWorkers: 1, uploadPartBytes: 4096, publicUrl: `http://127.0.0.1:${proxy.port}/ft` },
    app: { clock, reaperTimer: false }, // the clock jumps only once every job is done
  });
  proxy.target = proxied.app.url;
  directBase = `${direct.app.url}/v0.5`;
  proxiedBase = `http://127.0.0.1:${proxy.port}/ft/v0.5`;
  for (const t of [direct, proxied]) {
    for (const f of [...files.train, ...files.val]) assert.equal((await t.client.upload(f.file_id, await readFile(f.path), 'text/csv')).status, 200);
  }
});
after(async () => {
  await direct?.close();
  await proxied?.close();
  await proxy?.close();
  rmSync(files.dir, { recursive: true, force: true });
});

/** A few-shot knn batch job over the two val files, run to COMPLETED; returns its id and listed outputs. */
async function runBatch(api: Client): Promise<{ id: string; uuid: string; outputs: Array<{ filename: string; ref: string; num_bytes: number; sha256: string }> }> {
  const r = await api.call('POST', '/batch/jobs', {
    name: 'urls', pipeline_type: 'batch', pipeline_key: 'machine-state-classification',
    inputs: { 'worker.inference': files.val.map((f) => ({ file_id: f.file_id })), 'worker.n_shots': files.train.map((f) => ({ file_id: f.file_id, metadata: { class: f.label } })) },
    parameters: { worker: { parallelism: 1, config: { reader_config: { window_size: 32, step_size: 8 }, classifier_config: { n_neighbors: 3 } } } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const done = await waitFor('batch job done', async () => {
    const j = (await api.get(`/batch/jobs/${r.body.id}`)).body;
    return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
  }, 120_000);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  const outs = (await api.get(`/batch/jobs/${r.body.id}/outputs`)).body;
  assert.equal(outs.total, files.val.length);
  return { id: r.body.id, uuid: r.body.uuid, outputs: outs.outputs.map((o: { data: unknown }) => o.data) };
}

describe('batch output refs', () => {
  let presigned: Awaited<ReturnType<typeof runBatch>>;
  const api = (): Client => new Client(proxiedBase);

  test('relative by default: {base}{ref} with the key gives the output bytes; without the key it is a 401', async () => {
    const api = new Client(directBase);
    const job = await runBatch(api);
    for (const o of job.outputs) {
      assert.equal(o.ref, `/batch/jobs/${job.id}/outputs/${o.filename}`, 'relative to the version root');
      const res = await resolveRef(directBase, o.ref);
      assert.equal(res.status, 200, o.ref);
      assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
      const b = await bytes(res);
      assert.equal(b.length, o.num_bytes);
      assert.equal(sha(b), o.sha256);
      assert.equal(res.headers.get('x-checksum-sha256'), o.sha256);
      assert.match(b.toString('utf8'), /^timestamp,Prediction,class0,class1\n/);
      const keyless = await fetch(directBase + o.ref);
      assert.equal(keyless.status, 401, 'a relative ref needs the key');
      assert.equal(((await keyless.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'unauthorized');
      assert.equal((await fetch(`${direct.app.url}/v0.5/v0.5${o.ref}`, { headers: AUTH })).status, 404, 'the old doubled prefix does not resolve');
    }
  });

  test('with FTNODE_PUBLIC_URL: presigned absolute URLs on the public base, fetched with no key, same bytes as the keyed route, valid 1 h', async () => {
    const before = Math.floor((clock.now() + 3600_000) / 1000);
    presigned = await runBatch(api());
    const after = Math.floor((clock.now() + 3600_000) / 1000);
    for (const o of presigned.outputs) {
      const u = new URL(o.ref);
      assert.equal(`${u.origin}${u.pathname}`, `http://127.0.0.1:${proxy.port}/ft/v0.5/signed/batch/outputs/${presigned.uuid}/${o.filename}`);
      const expires = Number(u.searchParams.get('expires'));
      assert.ok(expires >= before && expires <= after + 1, `expires ${expires} is listing time + 1 h (${before}..${after})`);
      const res = await resolveRef(proxiedBase, o.ref); // no key
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('x-checksum-sha256'), o.sha256);
      const viaRef = await bytes(res);
      const keyed = await fetch(`${proxiedBase}/batch/jobs/${presigned.id}/outputs/${o.filename}`, { headers: AUTH });
      assert.equal(keyed.status, 200);
      assert.deepEqual(viaRef, await bytes(keyed), 'presigned bytes equal the authenticated route');
      assert.equal(sha(viaRef), o.sha256);
    }
  });

  test('tampered presigned refs are 403 unauthorized in the envelope: signature, expiry, filename, job, purpose', async () => {
    const [a, b] = presigned.outputs as [typeof presigned.outputs[0], typeof presigned.outputs[0]];
    const u = new URL(a.ref);
    const set = (k: string, v: string): string => {
      const x = new URL(u);
      x.searchParams.set(k, v);
      return x.toString();
    };
    const sig = u.searchParams.get('sig')!;
    const part = new URL((await api().call('POST', '/files/uploads/initiate', { filename: 'purpose.txt', file_type: 'text/plain', num_bytes: 10 })).body.parts[0].url);
    const variants: Array<[string, string]> = [
      ['changed signature', set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1))],
      ['later expiry', set('expires', String(Number(u.searchParams.get('expires')) + 3600))],
      ['no signature', u.toString().replace(/&sig=[^&]+/, '')],
      ['another output of the same job', u.toString().replace(a.filename, b.filename)],
      ['another job', u.toString().replace(presigned.uuid, randomUUID())],
      ['a part URL signature', `${u.origin}${u.pathname}?${part.searchParams.toString()}`],
    ];
    for (const [what, url] of variants) {
      const r = await fetch(url);
      assert.equal(r.status, 403, what);
      const body = (await r.json()) as { errors: Array<Record<string, string>> };
      assert.deepEqual(Object.keys(body.errors[0]!).sort(), ['code', 'error_uid', 'message', 'suggestion'], what);
      assert.equal(body.errors[0]!.code, 'unauthorized', what);
      assert.match(body.errors[0]!.message, /invalid signature/, what);
    }
    assert.equal((await fetch(a.ref)).status, 200, 'the untouched URL still works');
  });

  test('an expired presigned ref is 403 saying so; listing again hands out one that works', async () => {
    const old = presigned.outputs[0]!;
    clock.skew += 3600_000 + 2000; // past the 1 h lifetime
    const r = await fetch(old.ref);
    assert.equal(r.status, 403);
    const e = ((await r.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;
    assert.equal(e.code, 'unauthorized');
    assert.match(e.message, /expired/);
    const fresh = (await api().get(`/batch/jobs/${presigned.id}/outputs`)).body.outputs[0].data;
    assert.notEqual(fresh.ref, old.ref);
    const again = await fetch(fresh.ref);
    assert.equal(again.status, 200);
    assert.equal(sha(await bytes(again)), old.sha256);
  });
});

describe('part URLs', () => {
  for (const [name, t, base] of [['reached directly (the Host)', () => direct, () => directBase], ['behind the proxy (FTNODE_PUBLIC_URL)', () => proxied, () => proxiedBase]] as const) {
    test(`${name}: absolute, PUT as they are with no key; the file downloads byte for byte`, async () => {
      const api = new Client(base());
      const content = Buffer.from(Array.from({ length: 10_000 }, (_, i) => 97 + (i % 26)));
      const filename = `direct-${t() === direct ? 'a' : 'b'}.txt`;
      const init = await api.call('POST', '/files/uploads/initiate', { filename, file_type: 'text/plain', num_bytes: content.length });
      assert.equal(init.status, 200, JSON.stringify(init.body));
      assert.equal(init.body.parts.length, 3);
      const root = base().replace(/\/v0\.5$/, '');
      const parts = [];
      for (const p of init.body.parts) {
        assert.ok(p.url.startsWith(`${root}/v0.5/files/uploads/${init.body.upload_id}/parts/${p.part_number}?`), p.url);
        const r = await fetch(p.url, { method: 'PUT', body: content.subarray(p.offset, p.offset + p.length) });
        assert.equal(r.status, 200, await r.text());
        parts.push({ part_number: p.part_number, part_token: r.headers.get('etag')! });
      }
      const fresh = (await api.call('POST', `/files/uploads/${init.body.upload_id}/parts/urls`, { part_numbers: [0] })).body.parts[0];
      assert.ok(fresh.url.startsWith(root), fresh.url);
      const re = await fetch(fresh.url, { method: 'PUT', body: content.subarray(0, fresh.length) });
      assert.equal(re.status, 200);
      parts[0] = { part_number: 0, part_token: re.headers.get('etag')! };
      const done = await api.call('POST', `/files/uploads/${init.body.upload_id}/complete`, { parts });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const dl = await fetch(`${base()}/files/download/${filename}`, { headers: AUTH });
      assert.equal(dl.status, 200);
      assert.deepEqual(await bytes(dl), content);
    });
  }
});

describe('fine-tune records', () => {
  test('inference_config_path and the YAML checkpoint uri are storage URIs; the same bytes are served under the version root', async () => {
    const api = new Client(directBase);
    assert.equal((await direct.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
    const c = await api.call('POST', '/fine-tune/jobs', { name: 'urls', config: { model: 'fixture-quick', datasets: [{ name: 'train', split: 'train', file_ids: ['data.jsonl'] }] } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const job = await waitFor('fine-tune job done', async () => {
      const j = (await api.get(`/fine-tune/jobs/${c.body.id}`)).body;
      return ['COMPLETED', 'FAILED'].includes(j.status) ? j : null;
    }, 60_000);
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job.error));
    assert.match(job.inference_config_path, /^file:\/\//, 'a storage location, not an HTTP URL (contract)');
    const yaml = await fetch(`${directBase}/fine-tune/jobs/${job.id}/inference-config`, { headers: AUTH });
    assert.equal(yaml.status, 200);
    const text = await yaml.text();
    assert.equal(readFileSync(fileURLToPath(job.inference_config_path), 'utf8'), text, 'the HTTP route serves the file at inference_config_path');
    const v06 = (await fetch(`${direct.app.url}/v0.6/fine_tuning/jobs/${job.id}`, { headers: AUTH }).then((r) => r.json())) as { inference_config_path: string };
    assert.equal(v06.inference_config_path, job.inference_config_path);

    const ckpts = (await api.get(`/fine-tune/jobs/${job.id}/checkpoints`)).body.data as Array<{ id: string; sha256: string; num_bytes: number }>;
    assert.ok(ckpts.length >= 1);
    for (const k of ckpts) {
      const r = await fetch(`${directBase}/fine-tune/jobs/${job.id}/checkpoints/${k.id}/download`, { headers: AUTH });
      assert.equal(r.status, 200);
      const b = await bytes(r);
      assert.equal(b.length, k.num_bytes);
      assert.equal(sha(b), k.sha256);
    }
    const cfg = parseYaml(text) as { checkpoint: { id: string; uri: string; sha256: string } };
    assert.match(cfg.checkpoint.uri, /^file:\/\//);
    assert.equal(sha(readFileSync(fileURLToPath(cfg.checkpoint.uri))), cfg.checkpoint.sha256);
    assert.ok(ckpts.some((k) => k.id === cfg.checkpoint.id), 'the YAML names a listed checkpoint, downloadable over HTTP');
  });

  test('no answer carries a URL or path field the conventions do not cover', async () => {
    // Known fields: `ref` (batch outputs, checked above), `url` (part URLs, above), `inference_config_path`
    // (storage URI), `api` (the models list names each model's create route from the server root; a
    // label shown by the CLI and dashboard, not a ref).
    const known: Record<string, RegExp> = { inference_config_path: /^file:\/\//, api: /^\/v0\.[56]\/[a-z_/-]+$/, ref: /^\/batch\/jobs\// };
    const found: string[] = [];
    const scan = (v: unknown, path: string): void => {
      if (typeof v === 'string') {
        const key = path.split('.').at(-1)!.replace(/\[\d+\]$/, '');
        if (['message', 'suggestion', 'description'].includes(key)) return; // prose may name routes
        if (/^\/|:\/\//.test(v)) {
          if (known[key]?.test(v)) return;
          found.push(`${path} = ${v}`);
        }
      } else if (Array.isArray(v)) v.forEach((x, i) => scan(x, `${path}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) scan(x, `${path}.${k}`);
    };
    const api = new Client(directBase);
    const jobs = (await api.get('/fine-tune/jobs')).body as Array<{ id: string }>;
    const batch = (await api.get('/batch/jobs')).body.jobs as Array<{ id: string }>;
    const answers: Array<[string, string]> = [
      ['/fine-tune/jobs', ''], ['/fine-tune/models', ''], ['/fine-tune/status', ''], ['/files/metadata', ''], ['/files/info', ''],
      ...jobs.flatMap((j): Array<[string, string]> => [[`/fine-tune/jobs/${j.id}`, ''], [`/fine-tune/jobs/${j.id}/events?limit=-1`, ''], [`/fine-tune/jobs/${j.id}/checkpoints`, ''], [`/fine-tune/jobs/${j.id}/metrics`, '']]),
      ...jobs.flatMap((j): Array<[string, string]> => [[`/fine_tuning/jobs/${j.id}`, 'v0.6'], [`/fine_tuning/jobs/${j.id}/events`, 'v0.6'], [`/fine_tuning/jobs/${j.id}/checkpoints`, 'v0.6']]),
      ...batch.flatMap((j): Array<[string, string]> => [[`/batch/jobs/${j.id}`, ''], [`/batch/jobs/${j.id}/events?limit=-1`, ''], [`/batch/jobs/${j.id}/progress?limit=-1`, ''], [`/batch/jobs/${j.id}/outputs`, '']]),
    ];
    assert.ok(jobs.length >= 1 && batch.length >= 1, 'the earlier tests left records to scan');
    for (const [path, version] of answers) {
      const url = version ? `${direct.app.url}/v0.6${path}` : `${directBase}${path}`;
      const r = await fetch(url, { headers: AUTH });
      assert.equal(r.status, 200, url);
      scan(await r.json(), path);
    }
    assert.deepEqual(found, []);
  });
});

describe('settings', () => {
  test('output ref modes: auto follows publicUrl; a public URL given with its version is not doubled', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftnode-links-'));
    try {
      const key = join(dir, 'sign.key');
      const c = new ManualClock(Date.parse('2026-05-01T00:00:00Z'));
      const job = { id: 'job_01', uuid: randomUUID() };
      const links = (mode: 'auto' | 'relative' | 'presigned', publicUrl: string | null): OutputLinks => new OutputLinks({ clock: c, options: { mode, publicUrl, ttlMs: 3600_000, signingKeyFile: key } });
      assert.equal(links('auto', null).ref(job, 'a.csv', 'http://h:1'), '/batch/jobs/job_01/outputs/a.csv');
      assert.equal(links('relative', 'https://ft.example.com').ref(job, 'a.csv', 'http://h:1'), '/batch/jobs/job_01/outputs/a.csv');
      const exp = Date.parse('2026-05-01T01:00:00Z') / 1000;
      assert.match(links('presigned', null).ref(job, 'a.csv', 'http://h:1'), new RegExp(`^http://h:1/v0\\.5/signed/batch/outputs/${job.uuid}/a\\.csv\\?expires=${exp}&sig=[A-Za-z0-9_-]{43}$`));
      const pub = links('auto', 'https://ft.example.com/v0.5/');
      const ref = new URL(pub.ref(job, 'a.csv', 'http://h:1'));
      assert.equal(`${ref.origin}${ref.pathname}`, `https://ft.example.com/v0.5/signed/batch/outputs/${job.uuid}/a.csv`);
      const q = { expires: ref.searchParams.get('expires')!, sig: ref.searchParams.get('sig')! };
      pub.verify(job.uuid, 'a.csv', q); // does not throw
      assert.throws(() => pub.verify(job.uuid, 'b.csv', q), (e: FtError) => e.code === 'unauthorized' && statusOf(e) === 403);
      c.advance(3600_000 + 1000);
      assert.throws(() => pub.verify(job.uuid, 'a.csv', q), /expired/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('FTNODE_OUTPUT_REFS and FTNODE_PUBLIC_URL are checked at start', () => {
    const home = mkdtempSync(join(tmpdir(), 'ftnode-cfg-'));
    try {
      assert.equal(loadConfig({ home }, {}).outputRefs, 'auto');
      assert.equal(loadConfig({ home }, {}).outputUrlTtlMs, 3600_000);
      assert.equal(loadConfig({ home }, { FTNODE_OUTPUT_REFS: 'presigned' }).outputRefs, 'presigned');
      assert.throws(() => loadConfig({ home }, { FTNODE_OUTPUT_REFS: 'signed' }), /FTNODE_OUTPUT_REFS must be auto, relative or presigned/);
      assert.throws(() => loadConfig({ home }, { FTNODE_PUBLIC_URL: 'ft.example.com' }), /FTNODE_PUBLIC_URL must start with http/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
