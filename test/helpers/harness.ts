/**
 * Test harness: a real ftnode app (HTTP server on an ephemeral port, SQLite file in a temp data
 * directory, real worker pool and trainer child processes), fixture trainer models, gates, and a
 * small fetch-based client. Waits are on conditions, never fixed sleeps.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appConfig, startApp, type App, type AppOptions } from '../../src/app/app.js';
import { DEFAULT_CATALOG } from '../../src/config/catalog.js';
import type { ConfigOverrides } from '../../src/config/config.js';
import type { CatalogEntry } from '../../src/domain/catalog.js';

export const FIXTURE_TRAINER = fileURLToPath(new URL('../fixtures/gated-trainer.js', import.meta.url));
export const TEST_KEY = 'sk_test_0123456789abcdefghijklmnopqrstuvwxyzAB';

export interface FixturePlan {
  steps?: number;
  evalEvery?: number;
  gates?: string[];
  gateAttempts?: number[];
  exitCode?: number;
  failAtStep?: number;
  errorMessage?: string;
  ignoreStop?: boolean;
  killSelfAtStep?: number;
  earlyStopAt?: number;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10)); // poll interval of a condition wait, not a sleep-for-effect
  }
}

export class Gates {
  constructor(readonly dir: string) {}
  /** Resolves with the trainer's pid once job `jobId`'s trainer waits at gate `name`. */
  reached(jobId: string, name: string, timeoutMs = 30_000): Promise<number> {
    const file = join(this.dir, `${jobId}.${name}.reached`);
    return waitFor(`gate ${name} of ${jobId}`, () => existsSync(file) && Number(readFileSync(file, 'utf8')), timeoutMs);
  }
  open(jobId: string, name: string): void {
    writeFileSync(join(this.dir, `${jobId}.${name}.go`), '');
  }
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(readonly url: string, readonly key: string | null = TEST_KEY) {}
  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.key) h.authorization = `Bearer ${this.key}`;
    const init: RequestInit = { method, headers: h };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(this.url + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (YAML, bytes): keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get<T = any>(p: string): Promise<ApiResponse<T>> {
    return this.call('GET', p);
  }
  async upload(name: string, content: string | Buffer, type = 'text/plain'): Promise<ApiResponse> {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), name);
    const res = await fetch(`${this.url}/v0.5/files`, { method: 'POST', headers: this.key ? { authorization: `Bearer ${this.key}` } : {}, body: form });
    return { status: res.status, body: await res.json(), headers: res.headers };
  }
  async job(id: string): Promise<any> {
    return (await this.get(`/v0.5/fine-tune/jobs/${id}`)).body;
  }
  waitStatus(id: string, statuses: string[], timeoutMs = 60_000): Promise<any> {
    return waitFor(`job ${id} in ${statuses.join('|')}`, async () => {
      const j = await this.job(id);
      return statuses.includes(j.status) ? j : null;
    }, timeoutMs);
  }
}

export interface TestApp {
  app: App;
  client: Client;
  gates: Gates;
  home: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  plans?: Record<string, FixturePlan>;
  overrides?: ConfigOverrides;
  app?: AppOptions;
  home?: string;
}

/** Catalog entries `fixture-<name>` for each plan, sharing one gate folder. */
export function fixtureCatalog(plans: Record<string, FixturePlan>, gateDir: string): Record<string, CatalogEntry> {
  const out: Record<string, CatalogEntry> = {};
  for (const [name, plan] of Object.entries(plans)) {
    out[`fixture-${name}`] = { trainer: 'external', kind: 'text', command: [process.execPath, FIXTURE_TRAINER], env: { FIXTURE_PLAN: JSON.stringify(plan), FIXTURE_GATE_DIR: gateDir } };
  }
  return out;
}

export async function startTestApp(o: TestAppOptions = {}): Promise<TestApp> {
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'ftnode-test-'));
  const gateDir = mkdtempSync(join(tmpdir(), 'ftnode-gates-'));
  // Rate limits off: suites send many keyless requests and poll fast from many waiters on purpose;
  // abuse.test.ts tests the limits themselves.
  const config = appConfig({ home, port: 0, bootstrapKey: TEST_KEY, authFailuresPerMinute: 0, requestsPerKeyPerMinute: 0, catalog: { ...DEFAULT_CATALOG, ...fixtureCatalog(o.plans ?? {}, gateDir) }, ...o.overrides }, {});
  const app = await startApp(config, { logger: false, ...o.app });
  return {
    app,
    client: new Client(app.url),
    gates: new Gates(gateDir),
    home,
    async close() {
      await app.close();
      if (!o.home) rmSync(home, { recursive: true, force: true });
      rmSync(gateDir, { recursive: true, force: true });
    },
  };
}

/** A v0.5 create body for `model` over one uploaded training file. */
export function jobBody(model: string, fileId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'test job', config: { model, datasets: [{ name: 'train', split: 'train', file_ids: [fileId] }] }, ...extra };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens each gate `paceMs` after a trainer reached it (only gates of jobs whose id starts with
 * `prefix`): training goes on at a steady pace whoever runs it. Stop it with clearInterval.
 */
export function paceGates(gateDir: string, paceMs: number, prefix = '', hold: (file: string) => boolean = () => false): NodeJS.Timeout {
  const seen = new Map<string, number>();
  return setInterval(() => {
    for (const f of readdirSync(gateDir)) {
      if (!f.startsWith(prefix) || !f.endsWith('.reached') || hold(f)) continue;
      const first = seen.get(f) ?? Date.now();
      seen.set(f, first);
      if (Date.now() - first >= paceMs) writeFileSync(join(gateDir, f.replace(/\.reached$/, '.go')), '');
    }
  }, 10);
}
