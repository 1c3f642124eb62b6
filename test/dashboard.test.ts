/**
 * The dashboard end to end in a real browser: Playwright (playwright-core) drives Debian's Chromium
 * (/usr/bin/chromium, or FTNODE_CHROMIUM; never a downloaded browser) against a real server.
 * 1. A gated fixture trainer, so the run advances only when the test opens a gate: sign in (the empty
 *    jobs list says how to start) → upload a file (its Delete dialog's harmless button keeps the file)
 *    → create a job → the loss curve grows while the page is open → Stop (by keyboard, confirmed) →
 *    STOPPED with a checkpoint (downloaded, sha256 checked), an inference config and a result summary.
 * 2. A real Omega (time-series) head job: a running job's page shows the macro-F1 curve on the loss
 *    curve's step axis with the best checkpoint marked, hover values, log scale and smoothing, the
 *    hyperparameters panel (what the request set), payload tables, remaining time; the jobs list
 *    updates its step live; phone width draws cards without horizontal scrolling; dark mode follows
 *    prefers-color-scheme. An Omega knn job created from the dashboard's form completes with a summary.
 * Screenshots go to test-artifacts/ at 1280×800 and 390×844 (their paths are reported as test
 * diagnostics). The browser tests skip with a message when Chromium is not installed; the static-file
 * checks run without a browser.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { Rng } from '../src/trainers/timeseries/rng.js';
import { startTestApp, TEST_KEY, type TestApp } from './helpers/harness.js';

const CHROMIUM = process.env.FTNODE_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const DATASET = join(ROOT, 'examples/datasets/sensor-sft-train.jsonl');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const skip = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set FTNODE_CHROMIUM)`;

let t: TestApp;
let context: BrowserContext;
let page: Page;
let profileDir: string;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'dist/web/src/main.js')), 'the dashboard is not built: `npm run build` must run `tsc -p web/tsconfig.json` (see docs/dashboard.md)');
  t = await startTestApp({ plans: { live: { steps: 8, evalEvery: 2, gates: ['step_3', 'step_5', 'step_6'] } } });
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  profileDir = mkdtempSync(join(tmpdir(), 'ftnode-chromium-'));
  const { chromium } = await import('playwright-core');
  // launchPersistentContext: the fresh --user-data-dir is this folder (Playwright refuses it in args).
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
});

after(async () => {
  await context?.close();
  await t?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

const shots: string[] = []; // taken since the test's last report, listed as its diagnostics
const shot = async (name: string, fullPage = false): Promise<void> => {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage });
  shots.push(join(ARTIFACTS, name));
};
/** Horizontal overflow of the page in CSS pixels (0 when nothing runs off the screen). */
const overflow = (): Promise<number> => page.evaluate(() => { const d = (globalThis as any).document.documentElement; return d.scrollWidth - d.clientWidth as number; });
const points = (id: string): Promise<number> => page.locator(`#${id}`).getAttribute('data-points').then(Number);
/** Waits (in the page) until chart `id` draws at least `n` values. */
// A function predicate, not a string: the page's CSP (no 'unsafe-eval') refuses evaluated strings.
const waitPoints = (id: string, n: number): Promise<unknown> =>
  page.waitForFunction(([sel, min]) => Number((globalThis as any).document.querySelector(sel)?.getAttribute('data-points')) >= min, [`#${id}`, n] as const);

test('dashboard: sign in, upload, create, live curve, stop, STOPPED with checkpoint', { skip }, async (tc) => {
  await page.goto(t.app.url);
  await page.fill('#api-key', 'sk_wrong_key_0000000000000000000000000000');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'error unauthorized' }).waitFor();
  await page.fill('#api-key', TEST_KEY);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => (globalThis as any).localStorage.getItem('ftnode.apiKey')), TEST_KEY);
  // The empty list says how to start.
  await page.locator('.jobs tr.empty', { hasText: 'No jobs yet.' }).waitFor();
  assert.match(await page.locator('.jobs tr.empty').innerText(), /upload your datasets on the Files page.*New job/s);
  await shot('dashboard-jobs-empty-1280x800.png');

  await page.locator('#nav').getByRole('link', { name: 'Files' }).click();
  await page.setInputFiles('#file-input', DATASET);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.locator('.uploads li', { hasText: 'uploaded' }).waitFor();
  await page.locator('#files tr[data-file="sensor-sft-train.jsonl"]').waitFor();
  assert.equal((await t.client.get('/v0.5/files/metadata/sensor-sft-train.jsonl')).status, 200);
  await shot('dashboard-files-1280x800.png');
  // Delete asks first; its harmless button keeps the file (it used to read "Keep it running").
  await page.locator('#files tr[data-file="sensor-sft-train.jsonl"] button', { hasText: 'Delete' }).click();
  const del = page.getByRole('dialog');
  await del.getByRole('button', { name: 'Keep the file' }).waitFor();
  assert.equal(await del.getByRole('button', { name: 'Keep it running' }).count(), 0);
  await del.getByRole('button', { name: 'Keep the file' }).click();
  await del.waitFor({ state: 'detached' });
  assert.equal((await t.client.get('/v0.5/files/metadata/sensor-sft-train.jsonl')).status, 200, 'kept');

  await page.locator('#nav').getByRole('link', { name: 'Models' }).click();
  await page.locator('#models td', { hasText: 'fixture-live' }).waitFor();

  await page.locator('#nav').getByRole('link', { name: 'Jobs' }).click();
  await page.locator('#new-job summary').click();
  await page.fill('#job-name', 'dashboard e2e');
  await page.selectOption('#job-model', 'fixture-live');
  await page.fill('#job-train', 'sensor-sft-train.jsonl');
  await page.getByRole('button', { name: 'Create job' }).click();
  await page.waitForURL(/#\/jobs\/ftj-/);
  const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]!);

  // Steps 1-2 (eval + checkpoint at 2), then the trainer waits at step_3: two loss points.
  await t.gates.reached(jobId, 'step_3');
  await waitPoints('loss-chart', 2);
  const before = await points('loss-chart');
  t.gates.open(jobId, 'step_3');
  await t.gates.reached(jobId, 'step_5');
  // Steps 3-4 arrive over the event stream: the same page, no reload, draws more points.
  await waitPoints('loss-chart', before + 2);
  await waitPoints('eval-chart', 2); // eval_accuracy at steps 2 and 4 (eval_loss is on the loss chart)
  await page.locator('#checkpoints tr[data-checkpoint]').nth(1).waitFor();
  assert.ok((await points('loss-chart')) > before, 'the loss curve grew live');
  await page.locator('#job-status .badge[data-status="RUNNING"]').waitFor();
  await shot('dashboard-fixture-job-running-1280x800.png');

  // Stop by keyboard: focus Stop, Enter opens the dialog (focus on "Keep it running"), Tab → confirm.
  await page.locator('#stop-job').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /evaluation in progress finishes/);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator('#job-status .badge[data-status="STOPPING"]').waitFor();
  t.gates.open(jobId, 'step_5');
  t.gates.open(jobId, 'step_6');
  await page.locator('#job-status .badge[data-status="STOPPED"]').waitFor();
  await page.locator('#timeline li', { hasText: 'STOPPING' }).waitFor();
  await page.locator('#inference-config', { hasText: 'checkpoint' }).waitFor();
  await page.locator('#job-summary', { hasText: 'stopped on request; the last committed checkpoint was kept · best' }).waitFor();
  assert.equal(await page.locator('#stop-job').isVisible(), false, 'no actions on a finished job');

  const ckpts = (await t.client.get(`/v0.5/fine-tune/jobs/${jobId}/checkpoints`)).body.data as Array<{ id: string; sha256: string; step: number }>;
  assert.ok(ckpts.length >= 2);
  const latest = ckpts[ckpts.length - 1]!;
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`tr[data-checkpoint="${latest.id}"] button`).click()]);
  const saved = await download.path();
  assert.equal(createHash('sha256').update(readFileSync(saved)).digest('hex'), latest.sha256);
  await page.locator(`tr[data-checkpoint="${latest.id}"]`, { hasText: 'sha256 verified' }).waitFor();
  await shot('dashboard-job-stopped-1280x800.png', true);

  await page.locator('#nav').getByRole('link', { name: 'Jobs' }).click();
  await page.locator(`tr[data-job="${jobId}"] .badge[data-status="STOPPED"]`).waitFor();
  await page.selectOption('#status-filter', 'RUNNING');
  await page.locator('#status-filter').dispatchEvent('change');
  await page.locator('td', { hasText: 'No job with this status.' }).waitFor();
  await page.selectOption('#status-filter', '');
  await page.locator(`tr[data-job="${jobId}"]`).waitFor();
  await shot('dashboard-jobs-1280x800.png');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${t.app.url}/#/jobs/${encodeURIComponent(jobId)}`);
  await page.locator('#job-status .badge[data-status="STOPPED"]').waitFor();
  await waitPoints('loss-chart', 4);
  const over = await overflow();
  assert.ok(over <= 0, `no horizontal scrolling of the page at phone width (overflow ${over}px)`);
  await shot('dashboard-job-phone-390x844.png');
  await page.locator('#nav').getByRole('link', { name: 'Jobs' }).click();
  await page.locator(`tr[data-job="${jobId}"]`).waitFor();
  await shot('dashboard-jobs-phone-390x844.png');
  await page.locator('#nav').getByRole('link', { name: 'Files' }).click();
  await page.locator('#files tr[data-file="sensor-sft-train.jsonl"]').waitFor();
  assert.equal(await page.locator('#files tr[data-file="sensor-sft-train.jsonl"]').evaluate((e) => (globalThis as any).getComputedStyle(e).display), 'block', 'files as cards');
  assert.ok((await overflow()) <= 0, 'no horizontal scrolling on the files page');
  await shot('dashboard-files-phone-390x844.png');
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const p of shots.splice(0)) tc.diagnostic(`screenshot ${p}`);
});

/** Two classes of 3-channel series: sinusoids of period 16 and 24 under noise 1, so macro-F1 climbs over epochs. */
function omegaCsv(k: number, rows: number, seed: number): string {
  const rng = new Rng(seed, 7);
  const period = 16 + 8 * k;
  const lines = ['timestamp,a,b,c'];
  for (let i = 0; i < rows; i++) {
    const ph = (2 * Math.PI * i) / period;
    lines.push(`${i},${(Math.sin(ph) + rng.normal()).toFixed(4)},${(Math.cos(ph) + rng.normal()).toFixed(4)},${rng.normal().toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

const OMEGA_FILES = [
  { file_id: 'normal-train.csv', label: 'normal', k: 0, seed: 1, role: 'train' },
  { file_id: 'attack-train.csv', label: 'attack', k: 1, seed: 11, role: 'train' },
  { file_id: 'normal-val.csv', label: 'normal', k: 0, seed: 2, role: 'val' },
  { file_id: 'attack-val.csv', label: 'attack', k: 1, seed: 12, role: 'val' },
];
const attr = (sel: string, name: string): Promise<string | null> => page.locator(sel).getAttribute(name);

test('dashboard: a running Omega job shows macro-F1 on the loss curve\'s step axis, the best checkpoint, live progress; phone cards; dark mode', { skip }, async (tc) => {
  for (const f of OMEGA_FILES) assert.equal((await t.client.upload(f.file_id, omegaCsv(f.k, 1000, f.seed), 'text/csv')).status, 200);
  const entry = (role: string) => OMEGA_FILES.filter((f) => f.role === role).map((f) => ({ file_id: f.file_id, label: f.label }));
  // Thousands of epochs with patience as long: it runs until the test stops it.
  const created = await t.client.call('POST', '/v0.6/fine_tuning/jobs', {
    name: 'line-3 anomalies', model: 'omega', seed: 0,
    method: { type: 'head', head: { hyperparameters: { n_epochs: 3000, patience: 3000, num_features: 2000, batch_size: 32 }, reader: { window_size: 32, step_size: 2 } } },
    training_files: entry('train'), validation_files: entry('val'),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  // One worker slot: a failed assertion must not leave this job holding it for the next test.
  tc.after(() => t.client.call('PUT', `/v0.5/fine-tune/jobs/${id}/cancel`).then(() => undefined));
  await page.goto(`${t.app.url}/#/jobs/${encodeURIComponent(id)}`);
  await page.locator('#job-status .badge[data-status="RUNNING"]').waitFor();
  // The macro-F1 curve: at least 4 evaluations (macro_f1 and eval_accuracy each), the best checkpoint marked.
  await page.waitForFunction(() => {
    const el = (globalThis as any).document.querySelector('#eval-chart');
    return el && el.dataset.keys?.split(' ').includes('macro_f1') && Number(el.dataset.points) >= 8 && el.dataset.markedStep !== undefined;
  });
  assert.equal(await page.locator('#job-status .badge').getAttribute('data-status'), 'RUNNING', 'still running');
  const keys = (await attr('#eval-chart', 'data-keys'))!.split(' ');
  assert.deepEqual(keys, ['eval_accuracy', 'macro_f1'], 'epoch is not plotted; losses are on the loss chart; macro_f1 drawn last, on top');
  assert.deepEqual((await attr('#loss-chart', 'data-keys'))!.split(' '), ['eval_loss', 'eval_train_loss', 'loss']);
  // One step axis: the marked checkpoint and every evaluation sit on AdamW steps (epoch × steps per epoch).
  const events = (await t.client.get(`/v0.5/fine-tune/jobs/${id}/events?order=asc&limit=-1`)).body.data as Array<{ type: string; data: any }>;
  const perEpoch = Math.ceil(events.find((e) => e.type === 'hyperparameters')!.data.values.n_train_windows / 32);
  const marked = Number(await attr('#eval-chart', 'data-marked-step'));
  assert.equal(marked % perEpoch, 0, `marked step ${marked} is an epoch end (${perEpoch} steps per epoch)`);
  assert.match(await page.locator('#eval-chart figcaption').innerText(), /^Step \d+ \(epoch \d+\): eval_accuracy [\d.]+, macro_f1 [\d.]+ · \d+ steps · best ckp_\w+ \(macro_f1 [\d.]+\) at step \d+$/);
  await page.locator('#checkpoints tr.best .best-badge').waitFor();
  // Hover values: the legends of both (synced) charts show the values at the step under the cursor.
  const box = (await page.locator('#eval-chart .u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('#eval-chart .u-legend .u-value, #loss-chart .u-legend .u-value')].slice(1).every((e: any) => /\d/.test(e.textContent)));
  // Log scale and smoothing redraw the same points.
  const before = Number(await attr('#loss-chart', 'data-points'));
  await page.check('#loss-chart-log');
  await page.selectOption('#loss-chart-smooth', '0.9');
  await waitPoints('loss-chart', before);
  await page.uncheck('#loss-chart-log');
  await page.selectOption('#loss-chart-smooth', '0');
  // Colours: one per metric, the same in every chart.
  const strokes = await page.evaluate(() => [...(globalThis as any).document.querySelectorAll('.u-legend .u-series')].map((e: any) => [e.textContent.trim().split(/\s/)[0], (globalThis as any).getComputedStyle(e.querySelector('.u-marker')).borderColor]));
  const byKey = new Map<string, Set<string>>();
  for (const [k, c] of strokes as Array<[string, string]>) byKey.set(k, (byKey.get(k) ?? new Set()).add(c));
  assert.ok([...byKey.values()].every((s) => s.size === 1), JSON.stringify(strokes));
  // Hyperparameters: what the request set, what the trainer chose; event payloads as tables.
  await page.locator('#hyperparameters tr', { hasText: 'n_epochs' }).filter({ hasText: 'set in the request' }).waitFor();
  await page.locator('#hyperparameters tr', { hasText: 'learning_rate' }).filter({ hasText: 'chosen by the trainer' }).waitFor();
  assert.ok(await page.locator('#events li[data-type="eval_finished"] table.kv').count() > 0);
  assert.doesNotMatch(await page.locator('#events').innerText(), /chosen from the dataset size/);
  // Header: step N of M, remaining time, and the running summary.
  assert.match(await page.locator('#job-status').innerText(), /step \d+ of \d+ · epoch \d+ · about .+ left/);
  assert.match(await page.locator('#job-summary').innerText(), /^best so far macro_f1 [\d.]+ at ckp_\w+ \(step \d+\) · running for /);
  await shot('dashboard-job-running-1280x800.png');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.documentElement).backgroundColor), 'rgb(11, 17, 32)', 'dark background');
  await shot('dashboard-job-running-dark-1280x800.png');
  await page.emulateMedia({ colorScheme: 'light' });

  // The jobs list: the step column moves while the status stays RUNNING; duration and best columns.
  await page.locator('#nav').getByRole('link', { name: 'Jobs' }).click();
  const stepCell = page.locator(`tr[data-job="${id}"] td.step`);
  await stepCell.waitFor();
  const first = await stepCell.innerText();
  await page.waitForFunction(([sel, was]) => { const el = (globalThis as any).document.querySelector(sel); return el && el.textContent !== was; }, [`tr[data-job="${id}"] td.step`, first] as const);
  await page.locator(`tr[data-job="${id}"] td.best`, { hasText: /macro_f1 [\d.]+/ }).waitFor();
  await shot('dashboard-jobs-running-1280x800.png');

  // Phone width: the table is cards, the step is whole, nothing runs off the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const display = await page.locator(`tr[data-job="${id}"]`).evaluate((e) => (globalThis as any).getComputedStyle(e).display);
  assert.equal(display, 'block', 'a card');
  assert.match(await stepCell.innerText(), /^\d+ \/ \d+$/);
  const cell = (await stepCell.boundingBox())!;
  assert.ok(cell.x + cell.width <= 390, `step cell inside the screen (${JSON.stringify(cell)})`);
  assert.ok((await overflow()) <= 0, 'no horizontal scrolling on the jobs list');
  await shot('dashboard-jobs-running-phone-390x844.png');
  await page.locator(`tr[data-job="${id}"] a`).click();
  await page.locator('#job-status .badge[data-status="RUNNING"]').waitFor();
  await waitPoints('eval-chart', 8);
  await page.locator('#events li[data-type="eval_finished"] summary').first().click();
  assert.ok((await overflow()) <= 0, 'no horizontal scrolling on the job page');
  await shot('dashboard-job-running-phone-390x844.png');
  await page.setViewportSize({ width: 1280, height: 800 });

  assert.equal((await t.client.call('PUT', `/v0.5/fine-tune/jobs/${id}/stop`)).status, 200);
  await page.locator('#job-status .badge[data-status="STOPPED"]').waitFor();
  await page.locator('#job-summary', { hasText: /^stopped on request; the last committed checkpoint was kept · best macro_f1 [\d.]+ at ckp_\w+ \(step \d+\) · took / }).waitFor();
  for (const p of shots.splice(0)) tc.diagnostic(`screenshot ${p}`);
});

test('dashboard: an Omega knn job created from the form (files, classes, method) completes with a result summary', { skip }, async (tc) => {
  await page.goto(`${t.app.url}/#/jobs`);
  await page.locator('#new-omega-job summary').click();
  await page.fill('#omega-name', 'knn from the dashboard');
  await page.selectOption('#omega-method', 'knn');
  await page.fill('#omega-window', '32');
  await page.fill('#omega-step', '4');
  for (const f of OMEGA_FILES) {
    const row = page.locator(`#omega-files tr[data-file="${f.file_id}"]`);
    await row.locator('select').selectOption(f.role);
    assert.equal(await row.locator('input').inputValue(), f.label, 'the class is guessed from the file name');
  }
  await shot('dashboard-new-omega-job-1280x800.png', true);
  await page.getByRole('button', { name: 'Create omega job' }).click();
  await page.waitForURL(/#\/jobs\/ftj_/);
  await page.locator('#job-status .badge[data-status="COMPLETED"]').waitFor();
  await page.locator('#job-summary', { hasText: /^completed · best macro_f1 [\d.]+ at ckp_\w+ \(step 1\) · took / }).waitFor();
  await page.locator('#inference-config', { hasText: 'checkpoint' }).waitFor();
  const id = decodeURIComponent(page.url().split('#/jobs/')[1]!);
  const job = (await t.client.get(`/v0.6/fine_tuning/jobs/${id}`)).body;
  assert.deepEqual([job.method.type, job.training_files.map((f: any) => `${f.file_id}=${f.label}`).sort()], ['knn', ['attack-train.csv=attack', 'normal-train.csv=normal']]);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#inference-config').scrollIntoViewIfNeeded();
  const cfg = await page.locator('#inference-config').evaluate((e) => e.scrollWidth - e.clientWidth);
  assert.ok(cfg <= 0, `the inference config wraps (${cfg}px)`);
  assert.ok((await overflow()) <= 0);
  await shot('dashboard-job-completed-phone-390x844.png', true);
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot('dashboard-job-completed-1280x800.png', true);
  for (const p of shots.splice(0)) tc.diagnostic(`screenshot ${p}`);
});

test('dashboard: static files are public, confined, and the API still needs a key', async () => {
  const res = await fetch(`${t.app.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  for (const p of ['/app/src/client/index.js', '/app/web/src/main.js', '/vendor/uplot.esm.js', '/assets/style.css']) {
    assert.equal((await fetch(t.app.url + p)).status, 200, p);
  }
  for (const p of ['/app/src/app/app.js', '/app/web/src/%2e%2e/%2e%2e/package.json', '/vendor/package.json', '/assets/..%2findex.html']) {
    assert.equal((await fetch(t.app.url + p)).status, 404, p);
  }
  assert.equal((await fetch(`${t.app.url}/v0.5/fine-tune/jobs`)).status, 401);
  const doc = (await (await fetch(`${t.app.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(!Object.keys(doc.paths).some((p) => p === '/' || p.startsWith('/app') || p.startsWith('/vendor')), 'dashboard routes stay out of the API document');
});
