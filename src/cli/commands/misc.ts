/**
 * `ftnode checkpoint download`, `ftnode models`, `ftnode status` and `ftnode login` (writes the
 * profile file, mode 0600, after checking the key against the server).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { FtClient } from '../../client/index.js';
import { saveDownload } from '../../client/node.js';
import { act, CliError, profilePath, readProfile, remote, resolveRemote } from '../remote/context.js';
import { bytes, progressBar, table } from '../remote/format.js';

export function registerMisc(program: Command): void {
  const ckpt = program.command('checkpoint').description('checkpoint files');
  remote(ckpt.command('download').description("download a checkpoint; its sha256 is checked against the server's"))
    .argument('<job_id>')
    .argument('<checkpoint_id>', "a ckp_ id from 'jobs checkpoints', or 'latest'")
    .option('-o, --output <file>', 'where to write it (default <checkpoint_id>.ckpt)')
    .option('--no-progress', 'no progress bar')
    .action(act(async (ctx, jobId: string, ckpId: string) => {
      const client = ctx.client();
      const { data } = await client.checkpoints(jobId);
      const c = ckpId === 'latest' ? data.reduce<(typeof data)[number] | undefined>((a, b) => (!a || b.step > a.step ? b : a), undefined) : data.find((x) => x.id === ckpId);
      if (!c) throw new CliError('checkpoint_not_found', ckpId === 'latest' ? `job ${jobId} has no committed checkpoint` : `job ${jobId} has no checkpoint '${ckpId}'`);
      const out = (ctx.opts.output as string | undefined) ?? `${c.id}.ckpt`;
      const bar = progressBar(c.id, { enabled: ctx.opts.progress !== false && !ctx.json });
      const saved = await saveDownload(await client.downloadCheckpoint(jobId, c.id), out, { expectedSha256: c.sha256, onProgress: bar.update });
      bar.finish('sha256 ok');
      ctx.out(ctx.json ? JSON.stringify({ job_id: jobId, checkpoint_id: c.id, step: c.step, ...saved, verified: true }) : `${saved.path}\t${bytes(saved.num_bytes)}\tstep ${c.step}\tsha256 ${saved.sha256} (verified)`);
    }));

  remote(program.command('models').description('the model catalog'))
    .action(act(async (ctx) => {
      const { data } = await ctx.client().models();
      if (ctx.json) return ctx.out(JSON.stringify(data));
      ctx.out(table(data.map((m) => [m.id, m.kind, m.trainer, m.stand_in ? 'yes' : 'no', m.api, m.description]), ['MODEL', 'KIND', 'TRAINER', 'STAND-IN', 'API', 'DESCRIPTION']));
    }));

  remote(program.command('status').description('the worker fleet and the queue'))
    .action(act(async (ctx) => {
      const s = await ctx.client().status();
      if (ctx.json) return ctx.out(JSON.stringify(s));
      ctx.out(`${s.status}: ${s.live_workers}/${s.workers} workers live, ${s.active_jobs} active jobs, ${s.queue_depth} queued`);
    }));

  remote(program.command('login').description(`check an endpoint and key, then save them in the profile (${profilePath()})`))
    .action(act(async (ctx) => {
      const r = resolveRemote(ctx.opts);
      if (!r.apiKey) throw new CliError('missing_api_key', 'give --api-key (or set ATAI_API_KEY)');
      const client = new FtClient({ endpoint: r.endpoint, apiKey: r.apiKey });
      await client.models(); // a bad key or endpoint fails here, before anything is written
      const path = profilePath();
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, `${JSON.stringify({ ...readProfile(path), endpoint: client.endpoint, api_key: r.apiKey }, null, 2)}\n`, { mode: 0o600 });
      ctx.out(ctx.json ? JSON.stringify({ profile: path, endpoint: client.endpoint }) : `saved ${client.endpoint} and the key in ${path}`);
    }));
}
