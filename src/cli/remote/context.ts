/**
 * What every command that talks to a server shares: the `--endpoint/--api-key/--json` options, where
 * the endpoint and key come from (flag > ATAI_API_ENDPOINT / ATAI_API_KEY > profile file > the local
 * default), and the action wrapper that turns any failure into one line `error <code>: <message>` on
 * stderr with a non-zero exit code. The profile is `~/.config/ftnode/profile.json`, or FTNODE_PROFILE.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ApiError, FtClient } from '../../client/index.js';
import { CliError } from './cli-error.js';
import { isSystemError, localFileError } from './local-files.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8642';

export interface Profile {
  endpoint?: string;
  api_key?: string;
}

export interface RemoteOptions {
  endpoint?: string;
  apiKey?: string;
  json?: boolean;
  [key: string]: unknown;
}

export interface Ctx {
  opts: RemoteOptions;
  json: boolean;
  /** The client; throws `missing_api_key` when no key was found anywhere. */
  client(): FtClient;
  out(line: string): void;
  err(line: string): void;
}

export { CliError } from './cli-error.js';

export function profilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FTNODE_PROFILE || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'ftnode', 'profile.json');
}

export function readProfile(path = profilePath()): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as Profile;
  } catch (e) {
    throw new CliError('invalid_profile', `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export function resolveRemote(o: RemoteOptions, env: NodeJS.ProcessEnv = process.env): { endpoint: string; apiKey: string | null } {
  const needProfile = !o.endpoint || !o.apiKey;
  const p = needProfile ? readProfile(profilePath(env)) : {};
  const endpoint = o.endpoint || env.ATAI_API_ENDPOINT || p.endpoint || DEFAULT_ENDPOINT;
  const apiKey = o.apiKey || env.ATAI_API_KEY || p.api_key || null;
  return { endpoint, apiKey };
}

export function remote(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', `server URL (ATAI_API_ENDPOINT, profile, default ${DEFAULT_ENDPOINT}); a /v0.5 suffix is accepted`)
    .option('--api-key <key>', 'API key (ATAI_API_KEY, profile)')
    .option('--json', 'print JSON for scripts');
}

export function errorLine(err: unknown): string {
  if (err instanceof ApiError) return err.line();
  if (err instanceof CliError) return `error ${err.code}: ${err.message}`;
  if (isSystemError(err)) return errorLine(localFileError(err, err.path, err.syscall === 'open' && /w/.test(String((err as { flags?: string }).flags ?? '')) ? 'write' : 'use'));
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' && /^[A-Za-z_]+$/.test(e.code) ? e.code.toLowerCase() : 'cli_error';
  return `error ${code}: ${(e?.message ?? String(err)).split('\n')[0]}`;
}

type Action = (ctx: Ctx, ...args: any[]) => Promise<number | void>;

/** Wraps a command body: builds the context, prints the error line, sets the exit code. */
export function act(fn: Action): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    const command = args[args.length - 1] as Command;
    const opts = command.opts<RemoteOptions>();
    let client: FtClient | null = null;
    const ctx: Ctx = {
      opts,
      json: Boolean(opts.json),
      client() {
        if (client) return client;
        const r = resolveRemote(opts);
        if (!r.apiKey) throw new CliError('missing_api_key', `no API key: pass --api-key, set ATAI_API_KEY, or save one with 'ftnode login' (profile ${profilePath()})`);
        client = new FtClient({ endpoint: r.endpoint, apiKey: r.apiKey });
        return client;
      },
      out: (line) => void process.stdout.write(`${line}\n`),
      err: (line) => void process.stderr.write(`${line}\n`),
    };
    try {
      const code = await fn(ctx, ...args.slice(0, -2));
      process.exitCode = code ?? 0;
    } catch (err) {
      process.stderr.write(`${errorLine(err)}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    }
  };
}
