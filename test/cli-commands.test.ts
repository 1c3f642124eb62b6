/**
 * The CLI commands and error forms added for new users, against a real server: local file problems
 * with their own codes (a directory is not `connection_failed … EISDIR`), --version, commander's own
 * errors as `error <code>: …`, sizes in `files list`, `predict` on an Omega checkpoint, `batch create
 * --wait` / `batch outputs download` with relative refs (key sent) and presigned refs (no key), and
 * the server logging a client that hangs up mid-upload as one info line, not an error with a stack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { FtClient } from '../src/client/index.js';
import { writeSynthetic, type SynthFiles } from '../src/trainers/timeseries/test-helpers.js';
import { startTestApp, TEST_KEY, waitFor, type TestApp } from './helpers/harness.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

let t: TestApp;
let signed: TestApp; // outputRefs: presigned
let dir: string;
let files: SynthFiles;
const logLines: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], endpoint = t.app.url): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', ATAI_API_ENDPOINT: endpoint, ATAI_API_KEY: TEST_KEY, FTNODE_PROFILE: join(dir, 'no-profile.json') };
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const lines = (r: Run): any[] => r.stdout.trim().split('\n').map((l) => JSON.parse(l));
const paths = (): string[] => [...files.train, ...files.val].map((f) => f.path);

before(async () => {
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  t = await startTestApp({ app: { logger: pino({ level: 'info' }, sink) } });
  signed = await startTestApp({ overrides: { outputRefs: 'presigned' } });
  dir = mkdtempSync(join(tmpdir(), 'ftnode-cli-cmds-'));
  files = await writeSynthetic(2, 300, 1);
});

after(async () => {
  await t?.close();
  await signed?.close();
  rmSync(dir, { recursive: true, force: true });
  if (files) rmSync(files.dir, { recursive: true, force: true });
});

test('local file problems have their own codes and nothing is sent', async () => {
  const folder = join(dir, 'datasets');
  mkdirSync(folder, { recursive: true });
  const isDir = await cli(['files', 'upload', folder]);
  assert.equal(isDir.code, 1);
  assert.match(isDir.stderr, /^error path_is_directory: .*datasets is a directory: give the files in it \(e\.g\. .*datasets\/\*\)\n$/);
  const missing = await cli(['files', 'upload', paths()[0]!, join(dir, 'nope.csv')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error path_not_found: cannot read .*nope\.csv: no such file or directory\n$/);
  assert.equal(missing.stdout, '', 'every path is checked before the first upload');
  assert.equal((await t.client.get('/v0.5/files/metadata')).body.length, 0);
  const body = await cli(['jobs', 'create', '--file', join(dir, 'job.yaml')]);
  assert.match(body.stderr, /^error path_not_found: /);
  const out = await cli(['jobs', 'inference-config', 'ftj-x', '-o', join(dir, 'no', 'such', 'dir', 'x.yaml')]);
  assert.match(out.stderr, /^error job_not_found: /, 'the server is asked first');
});

test('--version, and commander errors in the documented one-line form', async () => {
  const v = await cli(['--version']);
  assert.deepEqual([v.code, v.stdout], [0, `ftnode ${PACKAGE.version}\n`]);
  const cases: Array<[string[], RegExp]> = [
    [['jobz'], /^error usage: unknown command 'jobz'.*\(ftnode --help lists the commands\)\n$/],
    [['jobs', 'list', '--bogus'], /^error usage: unknown option '--bogus'.*\n$/],
    [['jobs', 'list', '--limit', 'abc'], /^error invalid_parameter: --limit must be an integer ≥ -1, got 'abc'\n$/],
    [['jobs', 'events', 'x', '--limit', '2.5'], /^error invalid_parameter: --limit must be an integer ≥ -1, got '2\.5'\n$/],
    [['jobs', 'watch', 'x', '--reconnect-for', 'soon'], /^error invalid_parameter: --reconnect-for must be a number of seconds ≥ 0, got 'soon'\n$/],
    [['serve', '--port', 'NaN'], /^error invalid_parameter: --port must be a port number from 0 to 65535, got 'NaN'\n$/],
    [['jobs', 'get'], /^error usage: missing required argument 'job_id'\n$/],
    [['jobs', 'get', 'a', 'b'], /^error usage: too many arguments.*\n$/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('files list shows human-readable sizes; predict runs an Omega checkpoint on an uploaded file', async () => {
  const up = await cli(['files', 'upload', ...paths(), '--json']);
  assert.equal(up.code, 0, up.stderr);
  const list = await cli(['files', 'list']);
  assert.match(list.stdout, /^FILE_ID\s+SIZE\s+TYPE\s+FILE_UID/m);
  const size = readFileSync(files.train[0]!.path).length;
  assert.match(list.stdout, new RegExp(`^${files.train[0]!.file_id.replace('.', '\\.')}\\s+${(size / 1024).toFixed(1).replace('.', '\\.')} KiB\\s+text/csv`, 'm'));

  const entry = (f: { file_id: string; label: string }) => ({ file_id: f.file_id, label: f.label });
  writeFileSync(join(dir, 'knn.json'), JSON.stringify({ model: 'omega', method: { type: 'knn', knn: { reader: { window_size: 32, step_size: 4 } } }, training_files: files.train.map(entry), validation_files: files.val.map(entry) }));
  const created = await cli(['jobs', 'create', '--file', join(dir, 'knn.json'), '--wait', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const id = lines(created)[0].id as string;
  const val = files.val[1]!;
  const p = await cli(['predict', id, '--file-ids', val.file_id]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^FILE_ID\s+WINDOW\s+TIMESTAMP\s+PREDICTION\s+P$/m);
  const rows = p.stdout.split('\n').filter((l) => l.startsWith(val.file_id));
  assert.equal(rows.length, Math.floor((300 - 32) / 4) + 1);
  assert.ok(rows.every((l) => l.includes(` ${val.label} `)), 'the knn model classifies its validation file');
  assert.match(p.stdout, new RegExp(`^${rows.length} predictions from ckp_\\w+ \\(step 1\\), a stand-in model$`, 'm'));
  const none = await cli(['predict', id]);
  assert.match(none.stderr, /^error missing_parameter: give exactly one of --examples/);
});

test('batch create --wait, outputs download: a relative ref with the key, a presigned ref without it', async () => {
  for (const app of [t, signed]) {
    const endpoint = `${app.app.url}/v0.5`;
    if (app === signed) assert.equal((await cli(['files', 'upload', ...paths()], endpoint)).code, 0);
    const shots = files.train.map((f) => `${f.file_id}=${f.label}`);
    const r = await cli(['batch', 'create', '--name', 'line 3', '--inference', ...files.val.map((f) => f.file_id), '--shots', ...shots, '--window-size', '32', '--step-size', '4', '--wait', '--json'], endpoint);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const msgs = lines(r);
    const id = msgs[0].id as string;
    const outputs = msgs.filter((m) => m.type === 'output');
    assert.deepEqual(outputs.map((o) => o.filename).sort(), files.val.map((f) => `line_3_output_${f.file_id.replace(/\.csv$/, '')}.csv`).sort(), 'each output once');
    assert.equal(msgs.at(-1).status, 'COMPLETED');
    const out = join(dir, `outputs-${app === t ? 'relative' : 'signed'}`);
    const dl = await cli(['batch', 'outputs', 'download', id, '-d', out, '--json'], endpoint);
    assert.equal(dl.code, 0, dl.stderr);
    for (const d of lines(dl)) {
      assert.equal(d.verified, true);
      assert.equal(d.presigned, app === signed);
      assert.equal(createHash('sha256').update(readFileSync(d.path)).digest('hex'), outputs.find((o) => o.filename === d.filename).sha256);
    }
    const got = await cli(['batch', 'get', id], endpoint);
    assert.match(got.stdout, /^status\s+COMPLETED$/m);
  }
  // What each ref kind sends: the key only to the version root of the configured endpoint.
  const seen: Array<{ url: string; auth: string | null }> = [];
  const spy = new FtClient({ endpoint: 'http://ft.example/v0.5', apiKey: 'sk_spy', fetch: async (url, init) => {
    seen.push({ url: String(url), auth: new Headers(init?.headers).get('authorization') });
    return new Response('ok');
  } });
  await spy.fetchOutputRef('/batch/jobs/job_1/outputs/a.csv');
  await spy.fetchOutputRef('https://cdn.example/v0.5/signed/batch/outputs/u/a.csv?expires=1&sig=x');
  assert.deepEqual(seen, [
    { url: 'http://ft.example/v0.5/batch/jobs/job_1/outputs/a.csv', auth: 'Bearer sk_spy' },
    { url: 'https://cdn.example/v0.5/signed/batch/outputs/u/a.csv?expires=1&sig=x', auth: null },
  ]);
});

test('a client that hangs up mid-upload is one info line in the server log, not an error with a stack', async () => {
  const port = Number(new URL(t.app.url).port);
  // A direct upload's part PUT cut off after 64 KiB of 1 MiB (what Ctrl-C during `ftnode files upload --direct` does).
  const client = new FtClient({ endpoint: t.app.url, apiKey: TEST_KEY });
  const init = await client.initiateUpload({ filename: 'half.csv', file_type: 'text/csv', num_bytes: 4 << 20, resume_if_started: true });
  const part = init.parts[0]!;
  const target = new URL(part.url, t.app.url);
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${part.length}\r\n\r\n${'x'.repeat(64 * 1024)}`, () => {
        s.destroy();
        resolve();
      });
    });
    s.on('error', reject);
  });
  const line = await waitFor('the disconnect to be logged', () => logLines.find((l) => l.includes('client disconnected before the request body was complete')));
  const rec = JSON.parse(line) as { level: number; err?: unknown; url: string };
  assert.equal(rec.level, 30, 'info');
  assert.equal(rec.err, undefined, 'no error object, no stack');
  assert.equal(rec.url, target.pathname);
  assert.ok(!logLines.some((l) => JSON.parse(l).level >= 50), logLines.filter((l) => JSON.parse(l).level >= 50).join('\n'));
});

test('docs: configuration.md lists every built-in catalog model; README indexes the doc pages and mentions predict and batch', async () => {
  const read = (p: string): string => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');
  const { DEFAULT_CATALOG } = await import('../src/config/catalog.js');
  const config = read('docs/configuration.md');
  for (const id of Object.keys(DEFAULT_CATALOG)) assert.ok(config.includes(`| \`${id}\` |`), `docs/configuration.md does not list ${id}`);
  const readme = read('README.md');
  const pages = readdirSync(fileURLToPath(new URL('../../docs/', import.meta.url))).filter((f) => f.endsWith('.md') && !f.startsWith('benchmarks-'));
  for (const f of pages) assert.ok(readme.includes(`(docs/${f})`), `README does not link docs/${f}`);
  assert.match(readme, /\*\*Batch inference\*\*/);
  assert.match(readme, /ftnode predict/);
});

test('docs: every error code the CLI raises is in docs/cli.md\'s table', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const table = doc.slice(doc.indexOf('### Errors'));
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  const codes = new Set<string>();
  for (const dir of ['cli/commands', 'cli/remote', 'client']) {
    for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
      const text = readFileSync(join(root, dir, f), 'utf8');
      for (const m of text.matchAll(/(?:new CliError|ApiError\.local)\('([a-z_]+)'/g)) codes.add(m[1]!);
      for (const m of text.matchAll(/\['(path_[a-z_]+|permission_denied|disk_full|local_io_error)'/g)) codes.add(m[1]!);
    }
  }
  assert.ok(codes.has('path_is_directory') && codes.has('stream_lost'));
  for (const c of codes) assert.ok(table.includes(`\`${c}\``), `docs/cli.md "Errors" does not list ${c}`);
});
