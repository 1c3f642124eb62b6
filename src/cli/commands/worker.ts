/**
 * `ftnode worker` (a remote worker: pulls jobs from a control plane over HTTP and runs their
 * trainers on this host) and `ftnode workers token create|list|revoke` (worker tokens, in the
 * configured store like `keys`, through app/admin.ts: PostgreSQL when FTNODE_DATABASE_URL is set). docs/scaling.md.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { createWorkerToken, listWorkerTokens, revokeWorkerToken, type ConfigOverrides } from '../../app/admin.js';
import { appConfig, startRemoteWorker } from '../../app/app.js';

type Opts = Record<string, string | undefined>;

function base(o: Opts): ConfigOverrides {
  const out: ConfigOverrides = {};
  if (o.home) out.home = o.home;
  if (o.config) out.configFile = o.config;
  return out;
}

function fail(code: string, message: string): never {
  process.stderr.write(`error ${code}: ${message}\n`);
  process.exit(1);
}

export function registerWorkerCommands(program: Command): void {
  const common = (cmd: Command): Command => cmd.option('--home <dir>', 'data directory (FTNODE_HOME, default ./.ftnode)').option('--config <file>', 'config file, YAML or JSON (FTNODE_CONFIG)');

  common(program.command('worker').description('run a remote worker: claim jobs from a control plane over HTTP and train them on this host'))
    .option('--server <urls>', 'control-plane URL(s), comma-separated (FTNODE_WORKER_SERVER)')
    .option('--token <token>', 'worker token wk_… (FTNODE_WORKER_TOKEN; prefer the variable: flags show in ps)')
    .option('--concurrency <n>', 'jobs at once (FTNODE_WORKER_CONCURRENCY, default 1)')
    .option('--cache-dir <dir>', 'downloads and scratch (FTNODE_WORKER_CACHE_DIR, default <home>/worker-cache); one per worker process')
    .option('--node <name>', 'node name in worker ids (FTNODE_WORKER_NODE, default <hostname>-<hash of the cache dir>)')
    .action(async (o: Opts) => {
      const ov = base(o);
      if (o.server) ov.workerServer = o.server;
      if (o.token) ov.workerToken = o.token;
      if (o.concurrency !== undefined) ov.workerConcurrency = Number(o.concurrency);
      if (o.cacheDir) ov.workerCacheDir = o.cacheDir;
      if (o.node) ov.workerNode = o.node;
      const config = appConfig(ov);
      if (!config.workerServer) fail('usage', 'give the control plane with --server URL (or FTNODE_WORKER_SERVER)');
      if (!config.workerToken?.startsWith('wk_')) fail('usage', 'give a worker token wk_… with --token or FTNODE_WORKER_TOKEN (ftnode workers token create)');
      if (!Number.isInteger(config.workerConcurrency) || config.workerConcurrency < 1) fail('usage', '--concurrency must be a positive integer');
      const log = pino({ level: config.logLevel });
      let stopping: Promise<void> | null = null;
      const worker = await startRemoteWorker({
        urls: config.workerServer.split(',').map((u) => u.trim()).filter(Boolean), token: config.workerToken, concurrency: config.workerConcurrency,
        cacheDir: config.workerCacheDir, cacheMaxBytes: config.workerCacheMaxBytes, node: config.workerNode, trainerCommand: config.trainerCommand,
        env: process.env, log,
        onFatal: (err) => {
          log.error({ err }, 'worker token refused: stopping');
          stopping ??= worker.stop().finally(() => process.exit(1));
        },
      }).catch((err: Error) => fail(err.name === 'WorkerAuthError' ? 'unauthorized' : 'worker_failed', err.message));
      process.stdout.write(`ftnode worker ${worker.node} connected to ${config.workerServer} (concurrency ${config.workerConcurrency}, lease ${worker.info.lease_ms} ms)\n`);
      const shutdown = (): void => {
        stopping ??= worker.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });

  const tokens = program.command('workers').description('remote workers').command('token').description('worker tokens (wk_…, stored hashed; they open the worker API only)');
  common(tokens.command('create').description('create a worker token (printed once)'))
    .option('--name <name>', 'a label for the token', 'worker')
    .option('--json', 'print JSON')
    .action(async (o: Opts) => {
      const r = await createWorkerToken(base(o), o.name);
      process.stdout.write(o.json ? `${JSON.stringify({ token: r.token, id: r.record.id, name: r.record.name })}\n` : `${r.token}\n`);
    });
  common(tokens.command('list').description('list worker tokens (prefixes only)'))
    .option('--json', 'print JSON')
    .action(async (o: Opts) => {
      const list = await listWorkerTokens(base(o));
      if (o.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else for (const t of list) process.stdout.write(`${t.id}\t${t.prefix}…\t${t.name}\t${t.revoked_at ? 'revoked' : 'active'}\n`);
    });
  common(tokens.command('revoke').description('revoke a worker token by id: its workers stop at their next request (heartbeats: every 3 s; idle claims: 25 s); their jobs are retried elsewhere'))
    .argument('<id>', 'token id (wkt_…, from workers token list)')
    .action(async (id: string, o: Opts) => {
      if (!(await revokeWorkerToken(base(o), id))) fail('token_not_found', `no active worker token '${id}'`);
    });
}
