#!/usr/bin/env node
/**
 * The `ftnode` command. `serve` runs the service on embedded defaults; `keys` manages API keys in
 * the configured store through app/admin.ts (PostgreSQL when FTNODE_DATABASE_URL is set, else the data
 * directory's SQLite file); `worker` and `workers` live in commands/worker.ts.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { collectOrphanBlobs, createApiKey, listApiKeys, revokeApiKey, type ConfigOverrides } from '../app/admin.js';
import { appConfig, startApp } from '../app/app.js';
import { commanderErrorLine, CommanderError, oneLineErrors, registerRemoteCommands } from './commands/index.js';
import { errorLine } from './remote/context.js';
import { intArg } from './remote/options.js';
import { registerWorkerCommands } from './commands/worker.js';

/** The package's version, read from package.json next to dist/ (dist/src/cli/main.js → ../../../). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const program = new Command('ftnode')
  .description('Self-hosted fine-tuning service (Archetype AI Fine-Tuning API compatible)')
  .version(`ftnode ${packageVersion()}`, '-V, --version', 'print the version');

function common(cmd: Command): Command {
  return cmd.option('--home <dir>', 'data directory (FTNODE_HOME, default ./.ftnode)').option('--config <file>', 'config file, YAML or JSON (FTNODE_CONFIG)');
}

function overrides(o: Record<string, string | number | undefined>): ConfigOverrides {
  const out: ConfigOverrides = {};
  if (o.home) out.home = String(o.home);
  if (o.config) out.configFile = String(o.config);
  if (o.port !== undefined) out.port = Number(o.port);
  if (o.host) out.host = String(o.host);
  if (o.workers !== undefined) out.builtinWorkers = Number(o.workers);
  return out;
}

common(program.command('serve').description('run the API server with its built-in worker'))
  .option('--port <n>', 'port (FTNODE_PORT, default 8642; 0 = any free port)', intArg(0, 'a port number from 0 to 65535', 65535))
  .option('--host <addr>', 'listen address (FTNODE_HOST, default 127.0.0.1)')
  .option('--workers <n>', 'built-in worker slots (FTNODE_WORKERS, default 1; 0 = none)', intArg(0))
  .action(async (o: Record<string, string | undefined>) => {
    const config = appConfig(overrides(o));
    const app = await startApp(config);
    process.stdout.write(`ftnode listening on ${app.url}  (data: ${config.home})\n`);
    if (app.bootstrapKey) {
      process.stdout.write(`bootstrap API key for org '${config.bootstrapOrg}' (shown once; stored hashed):\n  ${app.bootstrapKey}\n`);
      process.stdout.write(`try: curl -H "Authorization: Bearer ${app.bootstrapKey}" ${app.url}/v0.5/fine-tune/models\n`);
    }
    const shutdown = (): void => {
      void app.close().finally(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

const keys = program.command('keys').description('API keys (stored hashed in the data directory)');

common(keys.command('create').description('create an API key for an organization (created if new)'))
  .requiredOption('--org <name>', 'organization name')
  .option('--name <name>', 'a label for the key', 'cli')
  .option('--json', 'print JSON')
  .action(async (o: Record<string, string | undefined>) => {
    const r = await createApiKey(overrides(o), o.org!, o.name);
    if (o.json) process.stdout.write(`${JSON.stringify({ key: r.key, id: r.record.id, org: r.org.name, org_uuid: r.org.uuid })}\n`);
    else process.stdout.write(`${r.key}\n`);
  });

common(keys.command('list').description("list an organization's keys (prefixes only)"))
  .requiredOption('--org <name>', 'organization name')
  .option('--json', 'print JSON')
  .action(async (o: Record<string, string | undefined>) => {
    const list = await listApiKeys(overrides(o), o.org!);
    if (o.json) process.stdout.write(`${JSON.stringify(list)}\n`);
    else for (const k of list) process.stdout.write(`${k.id}\t${k.prefix}…\t${k.name}\t${k.revoked_at ? 'revoked' : 'active'}\n`);
  });

common(keys.command('revoke').description('revoke a key by id'))
  .requiredOption('--org <name>', 'organization name')
  .argument('<id>', 'key id (from keys list)')
  .action(async (id: string, o: Record<string, string | undefined>) => {
    const ok = await revokeApiKey(overrides(o), o.org!, id);
    if (!ok) {
      process.stderr.write(`error key_not_found: no active key '${id}' in org '${o.org}'\n`);
      process.exitCode = 1;
    }
  });

common(program.command('gc').description('show (--dry-run) or delete stored objects that no record names (crash leftovers), on local disk or S3'))
  .option('--dry-run', 'list the orphans, delete nothing')
  .option('--min-age-minutes <n>', 'only objects last written at least this long ago (default 60: a commit in flight is younger)', intArg(0), 60)
  .option('--json', 'print JSON')
  .action(async (o: Record<string, string | number | boolean | undefined>) => {
    const r = await collectOrphanBlobs(overrides(o as Record<string, string | undefined>), { dryRun: o.dryRun === true, minAgeMs: Number(o.minAgeMinutes) * 60_000 });
    if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
    for (const x of r.orphans) process.stdout.write(`${x.key}\t${x.why}\n`);
    process.stdout.write(o.dryRun ? `${r.orphans.length} orphan(s); nothing deleted (--dry-run)\n` : `${r.deleted} orphan(s) deleted, ${r.temp_removed} temporary object(s) removed\n`);
  });

registerRemoteCommands(program);
registerWorkerCommands(program);
oneLineErrors(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    const line = commanderErrorLine(err);
    if (line) process.stderr.write(`${line}\n`);
    process.exit(line ? 1 : err.exitCode);
  }
  process.stderr.write(`${errorLine(err)}\n`);
  process.exit(1);
});
