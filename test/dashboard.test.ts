/**
 * The dashboard end to end in a real browser: Playwright (playwright-core) drives Debian's Chromium
 * (/usr/bin/chromium, or FTNODE_CHROMIUM; never a downloaded browser) against a real server with a
 * gated fixture trainer, so the run advances only when the test opens a gate. Sign in → upload a file →
 * create a job → the loss curve grows while the page is open → Stop (by keyboard, confirmed) → STOPPED
 * with a checkpoint (downloaded, sha256 checked) and an inference config. Screenshots go to
 * test-artifacts/ (1280×800 and phone width). The browser test skips with a message when Chromium is
 * not installed; the static-file checks run without a browser.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
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

const shot = (name: string, fullPage = false): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, name), fullPage });
const points = (id: string): Promise<number> => page.locator(`#${id}`).getAttribute('data-points').then(Number);
/** Waits (in the page) until chart `id` draws at least `n` values. */
// A function predicate, not a string: the page's CSP (no 'unsafe-eval') refuses evaluated strings.
const waitPoints = (id: string, n: number): Promise<unknown> =>
  page.waitForFunction(([sel, min]) => Number((globalThis as any).document.querySelector(sel)?.getAttribute('data-points')) >= min, [`#${id}`, n] as const);

test('dashboard: sign in, upload, create, live curve, stop, STOPPED with checkpoint', { skip }, async () => {
  await page.goto(t.app.url);
  await page.fill('#api-key', 'sk_wrong_key_0000000000000000000000000000');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'error unauthorized' }).waitFor();
  await page.fill('#api-key', TEST_KEY);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => (globalThis as any).localStorage.getItem('ftnode.apiKey')), TEST_KEY);

  await page.locator('#nav').getByRole('link', { name: 'Files' }).click();
  await page.setInputFiles('#file-input', DATASET);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.locator('.uploads li', { hasText: 'uploaded' }).waitFor();
  await page.locator('#files tr[data-file="sensor-sft-train.jsonl"]').waitFor();
  assert.equal((await t.client.get('/v0.5/files/metadata/sensor-sft-train.jsonl')).status, 200);
  await shot('dashboard-files-1280x800.png');

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
  await waitPoints('eval-chart', 4);
  await page.locator('#checkpoints tr[data-checkpoint]').nth(1).waitFor();
  assert.ok((await points('loss-chart')) > before, 'the loss curve grew live');
  await page.locator('#job-status .badge[data-status="RUNNING"]').waitFor();
  await shot('dashboard-job-running-1280x800.png');

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
  const overflow = await page.evaluate(() => { const d = (globalThis as any).document.documentElement; return d.scrollWidth - d.clientWidth as number; });
  assert.ok(overflow <= 0, `no horizontal scrolling of the page at phone width (overflow ${overflow}px)`);
  await shot('dashboard-job-phone-390x844.png');
  await page.locator('#nav').getByRole('link', { name: 'Jobs' }).click();
  await page.locator(`tr[data-job="${jobId}"]`).waitFor();
  await shot('dashboard-jobs-phone-390x844.png');
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
