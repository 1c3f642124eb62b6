/**
 * The `ftnode` CLI end to end: the compiled CLI spawned as a child process against a real server
 * (startTestApp, gated fixture trainer), configured through ATAI_API_ENDPOINT (with its /v0.5 suffix,
 * as Archetype's tools set it) and ATAI_API_KEY. upload → create → watch → stop → checkpoint download
 * (sha256 verified), --wait with a YAML body, cancel's exit code, files commands, a resumed direct
 * upload, the profile file, and the one-line errors with their exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { FtClient } from '../src/client/index.js';
import { registerRemoteCommands } from '../src/cli/commands/index.js';
import { EXIT_BY_STATUS } from '../src/cli/commands/watch.js';
import { writeSynthetic } from '../src/trainers/timeseries/test-helpers.js';
import { startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DATASET = fileURLToPath(new URL('../../examples/datasets/sensor-sft-train.jsonl', import.meta.url));

let t: TestApp;
let dir: string;
let env: Record<string, string>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> & { pid: () => number | undefined } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { pid: () => child.pid });
}

const json = (r: Run): any => JSON.parse(r.stdout.trim().split('\n').pop()!);
const lines = (r: Run): any[] => r.stdout.trim().split('\n').map((l) => JSON.parse(l));

before(async () => {
  t = await startTestApp({
    plans: { gated: { steps: 6, evalEvery: 2, gates: ['step_4'] }, quick: { steps: 4, evalEvery: 2 }, held: { steps: 6, evalEvery: 2, gates: ['step_2'] } },
    overrides: { uploadPartBytes: 64 * 1024 },
  });
  dir = mkdtempSync(join(tmpdir(), 'ftnode-cli-'));
  const { PATH = '' } = process.env;
  env = { PATH, ATAI_API_ENDPOINT: `${t.app.url}/v0.5`, ATAI_API_KEY: TEST_KEY, FTNODE_PROFILE: join(dir, 'no-profile.json') };
});

after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('cli: upload → create → watch → stop → checkpoint download (sha256 verified)', async () => {
  const up = await cli(['files', 'upload', DATASET, '--json']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(json(up).file_id, 'sensor-sft-train.jsonl');
  assert.equal(json(up).method, 'simple');

  const created = await cli(['jobs', 'create', '--name', 'cli e2e', '--model', 'fixture-gated', '--train', 'sensor-sft-train.jsonl', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const id = json(created).id as string;
  assert.match(id, /^ftj-cli-e2e-/);

  const watch = cli(['jobs', 'watch', id, '--json']);
  await t.gates.reached(id, 'step_4');
  const stop = await cli(['jobs', 'stop', id]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /status\s+STOPPING/);
  t.gates.open(id, 'step_4');

  const w = await watch;
  assert.equal(w.code, 3, `watch exits 3 on STOPPED\n${w.stdout}\n${w.stderr}`);
  const msgs = lines(w);
  assert.ok(msgs.some((m) => m.type === 'status' && m.status === 'STOPPING'), 'watch showed STOPPING');
  assert.ok(msgs.some((m) => m.type === 'status' && typeof m.loss === 'number' && m.eval?.eval_loss !== undefined), 'watch showed loss and an eval metric');
  assert.equal(msgs.at(-1).type, 'end');
  assert.equal(msgs.at(-1).status, 'STOPPED');

  const human = await cli(['jobs', 'watch', id]);
  assert.equal(human.code, 3);
  assert.match(human.stdout, new RegExp(`job ${id} ended STOPPED`));

  const ck = await cli(['jobs', 'checkpoints', id, '--json']);
  const ckpts = json(ck) as Array<{ id: string; step: number; sha256: string }>;
  assert.ok(ckpts.length >= 1);
  const latest = ckpts.reduce((a, b) => (b.step > a.step ? b : a));
  const out = join(dir, 'latest.ckpt');
  const dl = await cli(['checkpoint', 'download', id, latest.id, '-o', out, '--json']);
  assert.equal(dl.code, 0, dl.stderr);
  assert.equal(json(dl).verified, true);
  assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), latest.sha256);
  const byName = await cli(['checkpoint', 'download', id, 'latest', '-o', join(dir, 'l2.ckpt')]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /\(verified\)/);

  const metrics = await cli(['jobs', 'metrics', id]);
  assert.match(metrics.stdout, /^STEP\s+LOSS\s+EVAL_/m);
  const get = await cli(['jobs', 'get', id, '--json']);
  assert.equal(json(get).status, 'STOPPED');
  assert.ok(json(get).inference_config_path);
  const cfg = await cli(['jobs', 'inference-config', id]);
  assert.match(cfg.stdout, new RegExp(`checkpoint:[\\s\\S]*id: ${latest.id}`));
  const list = await cli(['jobs', 'list', '--status', 'STOPPED']);
  assert.match(list.stdout, new RegExp(`^${id}\\s+STOPPED`, 'm'));
  const del = await cli(['jobs', 'delete', id]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal((await cli(['jobs', 'get', id])).code, 1);
});

test('cli: create --file job.yaml --wait exits 0 on COMPLETED; watch exits 4 on CANCELLED', async () => {
  await cli(['files', 'upload', DATASET]);
  writeFileSync(join(dir, 'job.yaml'), 'name: yaml job\nconfig:\n  model: fixture-quick\n  datasets:\n    - {name: train, split: train, file_ids: [sensor-sft-train.jsonl]}\n');
  const r = await cli(['jobs', 'create', '--file', join(dir, 'job.yaml'), '--wait']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ended COMPLETED/);

  const held = await cli(['jobs', 'create', '--model', 'fixture-held', '--train', 'sensor-sft-train.jsonl', '--json']);
  const id = json(held).id as string;
  await t.gates.reached(id, 'step_2');
  const cancel = await cli(['jobs', 'cancel', id]);
  assert.match(cancel.stdout, /status\s+CANCELLED/);
  assert.equal((await cli(['jobs', 'watch', id])).code, 4);
});

test('cli: an Omega body in JSON goes to /v0.6 and --wait follows it to COMPLETED', async () => {
  const files = await writeSynthetic(2, 300, 1);
  try {
    const up = await cli(['files', 'upload', ...[...files.train, ...files.val].map((f) => f.path), '--json']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(lines(up).length, 4);
    const entry = (f: { file_id: string; label: string }): Record<string, string> => ({ file_id: f.file_id, label: f.label });
    writeFileSync(join(dir, 'omega.json'), JSON.stringify({ model: 'omega', method: { type: 'knn' }, training_files: files.train.map(entry), validation_files: files.val.map(entry) }));
    const r = await cli(['jobs', 'create', '--file', join(dir, 'omega.json'), '--wait', '--json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const first = lines(r)[0];
    assert.equal(first.object, 'fine_tuning.job', 'created through v0.6');
    assert.equal(lines(r).at(-1).status, 'COMPLETED');
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
  }
});

test('cli: files list, get, download, delete; a direct upload resumes what an earlier run checkpointed', async () => {
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, Buffer.alloc(300 * 1024, 'x'));
  const client = new FtClient({ endpoint: t.app.url, apiKey: TEST_KEY });
  // An earlier run that sent and checkpointed part 0, then died.
  const init = await client.initiateUpload({ filename: 'big.jsonl', file_type: 'text/plain', num_bytes: 300 * 1024, resume_if_started: true });
  assert.ok(init.num_parts >= 3);
  const token = await client.putPart(init.parts[0]!, readFileSync(big).subarray(0, init.parts[0]!.length));
  await client.checkpointUpload(init.upload_id, [{ part_number: 0, part_token: token }]);

  const up = await cli(['files', 'upload', big, '--direct-threshold', '0.1', '--json']); // 300 KiB > 0.1 MiB: direct
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual({ ...json(up), file_uid: undefined }, { file_id: 'big.jsonl', file_uid: undefined, num_bytes: 300 * 1024, method: 'direct', resumed: true });

  const list = await cli(['files', 'list', '--json']);
  assert.ok((json(list) as Array<{ file_id: string }>).some((f) => f.file_id === 'big.jsonl'));
  const get = await cli(['files', 'get', 'big.jsonl']);
  assert.match(get.stdout, /^big\.jsonl\s+307200\s+text\/plain/m);
  const out = join(dir, 'copy.jsonl');
  const dl = await cli(['files', 'download', 'big.jsonl', '-o', out, '--json']);
  assert.equal(dl.code, 0, dl.stderr);
  assert.equal(json(dl).verified, true);
  assert.deepEqual(readFileSync(out), readFileSync(big));
  const del = await cli(['files', 'delete', 'big.jsonl']);
  assert.match(del.stdout, /^deleted big\.jsonl/);
  const again = await cli(['files', 'get', 'big.jsonl']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error file_not_found: /);
});

test('cli: errors are one line `error <code>: <message>` with a non-zero exit code', async () => {
  const bad = await cli(['jobs', 'list'], { ATAI_API_KEY: 'sk_not_a_valid_key_000000000000000000000' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error unauthorized: .+\n$/);
  assert.equal(bad.stdout, '');

  const missing = await cli(['jobs', 'get', 'ftj-does-not-exist']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error job_not_found: .*ftj-does-not-exist.*\n$/);

  const nokey = await cli(['models'], { ATAI_API_KEY: '' });
  assert.equal(nokey.code, 1);
  assert.match(nokey.stderr, /^error missing_api_key: /);

  const down = await cli(['status', '--endpoint', 'http://127.0.0.1:9']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^error connection_failed: cannot reach http:\/\/127\.0\.0\.1:9/);

  const noFlags = await cli(['jobs', 'create']);
  assert.equal(noFlags.code, 1);
  assert.match(noFlags.stderr, /^error missing_parameter: give --train/);

  const usage = await cli(['jobs', 'get']);
  assert.notEqual(usage.code, 0);
  assert.match(usage.stderr, /^error usage: missing required argument 'job_id'\n$/);

  const invalid = await cli(['jobs', 'create', '--model', 'no-such-model', '--train', 'nope.jsonl']);
  assert.equal(invalid.code, 1);
  assert.equal(invalid.stderr.trim().split('\n').length, 1, 'several problems, one line');
  assert.match(invalid.stderr, /^error \w+: /);
});

test('cli: login saves a profile that later commands use; flags beat the environment', async () => {
  const profile = join(dir, 'profile.json');
  const login = await cli(['login', '--api-key', TEST_KEY, '--endpoint', `${t.app.url}/v0.5/`], { FTNODE_PROFILE: profile, ATAI_API_KEY: '', ATAI_API_ENDPOINT: '' });
  assert.equal(login.code, 0, login.stderr);
  assert.deepEqual(JSON.parse(readFileSync(profile, 'utf8')), { endpoint: t.app.url, api_key: TEST_KEY });
  const viaProfile = await cli(['status', '--json'], { FTNODE_PROFILE: profile, ATAI_API_KEY: '', ATAI_API_ENDPOINT: '' });
  assert.equal(viaProfile.code, 0, viaProfile.stderr);
  assert.ok(['READY', 'BUSY'].includes(json(viaProfile).status));
  const flagWins = await cli(['models', '--api-key', 'sk_wrong_00000000000000000000000000000000'], { FTNODE_PROFILE: profile });
  assert.match(flagWins.stderr, /^error unauthorized/);
  const badLogin = await cli(['login', '--api-key', 'sk_wrong_00000000000000000000000000000000'], { FTNODE_PROFILE: join(dir, 'p2.json') });
  assert.equal(badLogin.code, 1);
  assert.throws(() => readFileSync(join(dir, 'p2.json')), 'nothing saved for a refused key');
});

test('docs/cli.md documents every remote command and the exit codes of jobs watch', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const program = new Command('ftnode');
  registerRemoteCommands(program);
  const leaves = (c: Command, prefix: string): string[] => (c.commands.length ? c.commands.flatMap((s) => leaves(s, `${prefix} ${s.name()}`)) : [prefix]);
  for (const name of program.commands.flatMap((c) => leaves(c, `ftnode ${c.name()}`))) assert.ok(doc.includes(`\`${name}`), `docs/cli.md does not document ${name}`);
  for (const [status, code] of Object.entries(EXIT_BY_STATUS)) assert.match(doc, new RegExp(`\\| ${code} \\|[^\\n]*\\*\\*${status}\\*\\*`), `exit code ${code} for ${status}`);
});
