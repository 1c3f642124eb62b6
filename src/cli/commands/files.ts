/**
 * `ftnode files upload|list|get|download|delete`. Upload picks the path per file: above the direct
 * threshold (64 MiB) it uses the direct multipart upload API (resumable: re-running the command
 * resumes an unfinished upload) when the server's OpenAPI document lists it, else the simple upload.
 * A progress bar with bytes/s goes to stderr; stdout carries only results.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { FtClient } from '../../client/index.js';
import { directUpload } from '../../client/direct-upload.js';
import { saveDownload, simpleUpload } from '../../client/node.js';
import { act, CliError, remote, type Ctx } from '../remote/context.js';
import { bytes, progressBar, table } from '../remote/format.js';
import { readableFile } from '../remote/local-files.js';
import { numberArg } from '../remote/options.js';

const MiB = 1024 * 1024;

interface UploadOutcome {
  file_id: string;
  file_uid: string;
  num_bytes: number;
  method: 'simple' | 'direct';
  resumed?: boolean;
}

async function uploadOne(ctx: Ctx, client: FtClient, path: string, o: { direct?: boolean; simple?: boolean; directThreshold: number; progress: boolean }): Promise<UploadOutcome> {
  const size = await readableFile(path);
  const name = basename(path);
  let useDirect = !o.simple && (o.direct || size > o.directThreshold);
  if (useDirect && !(await client.supports('initiateUpload'))) {
    if (o.direct) throw new CliError('not_supported', `the server at ${client.endpoint} has no direct upload API (/v0.5/files/uploads/*)`);
    if (!ctx.json) ctx.err(`note: the server has no direct upload API; sending ${name} (${bytes(size)}) as a simple upload`);
    useDirect = false;
  }
  const bar = progressBar(name, { enabled: o.progress && !ctx.json });
  if (useDirect) {
    const r = await directUpload(client, path, { onProgress: bar.update });
    bar.finish(r.resumed ? 'resumed, done' : 'done');
    return { file_id: r.file_name, file_uid: r.file_uid, num_bytes: r.num_bytes, method: 'direct', resumed: r.resumed };
  }
  const r = await simpleUpload(client, path, { onProgress: bar.update });
  bar.finish('done');
  return { file_id: r.file_id, file_uid: r.file_uid, num_bytes: size, method: 'simple' };
}

export function registerFiles(program: Command): void {
  const files = program.command('files').description('upload, list, inspect, download and delete files (/v0.5/files)');

  remote(files.command('upload').description('upload files; the file_id is the base name (a simple upload replaces an existing file of that name)'))
    .argument('<paths...>', 'files to upload')
    .option('--direct', 'always use the direct multipart upload (resumable)')
    .option('--simple', 'always use the simple upload (POST /v0.5/files)')
    .option('--direct-threshold <MiB>', 'size above which the direct upload is used when the server has it', numberArg(0, 'a number of MiB ≥ 0'), 64)
    .option('--no-progress', 'no progress bar')
    .action(act(async (ctx, paths: string[]) => {
      const client = ctx.client();
      const threshold = Number(ctx.opts.directThreshold) * MiB;
      for (const path of paths) await readableFile(path); // every local problem before the first byte is sent
      for (const path of paths) {
        const r = await uploadOne(ctx, client, path, { direct: Boolean(ctx.opts.direct), simple: Boolean(ctx.opts.simple), directThreshold: threshold, progress: ctx.opts.progress !== false });
        ctx.out(ctx.json ? JSON.stringify(r) : `${r.file_id}\t${r.file_uid}\t${bytes(r.num_bytes)}\t${r.method}${r.resumed ? ' (resumed)' : ''}`);
      }
    }));

  remote(files.command('list').description("list the organization's files"))
    .action(act(async (ctx) => {
      const list = await ctx.client().listFiles();
      if (ctx.json) return ctx.out(JSON.stringify(list));
      ctx.out(table(list.map((f) => [f.file_id, bytes(f.num_bytes), f.file_type, f.file_uid]), ['FILE_ID', 'SIZE', 'TYPE', 'FILE_UID']));
    }));

  remote(files.command('get').description("a file's metadata"))
    .argument('<file_id>')
    .action(act(async (ctx, id: string) => {
      const f = await ctx.client().fileMetadata(id);
      if (ctx.json) return ctx.out(JSON.stringify(f));
      const sha = f.file_attributes.sha256;
      ctx.out(table([[f.file_id, f.num_bytes, f.file_type, f.file_status, f.file_uid, typeof sha === 'string' ? sha : null]], ['FILE_ID', 'BYTES', 'TYPE', 'STATUS', 'FILE_UID', 'SHA256']));
    }));

  remote(files.command('download').description("download a file's bytes (sha256 checked when the server records it)"))
    .argument('<file_id>')
    .option('-o, --output <file>', 'where to write it (default: the file_id in the current folder)')
    .option('--no-progress', 'no progress bar')
    .action(act(async (ctx, id: string) => {
      const client = ctx.client();
      const meta = await client.fileMetadata(id);
      const sha = typeof meta.file_attributes.sha256 === 'string' ? meta.file_attributes.sha256 : undefined;
      const out = (ctx.opts.output as string | undefined) ?? basename(id);
      const bar = progressBar(id, { enabled: ctx.opts.progress !== false && !ctx.json });
      const saved = await saveDownload(await client.downloadFile(id), out, { expectedSha256: sha, onProgress: bar.update });
      bar.finish(sha ? 'sha256 ok' : 'done');
      ctx.out(ctx.json ? JSON.stringify({ file_id: id, ...saved, verified: Boolean(sha) }) : `${saved.path}\t${bytes(saved.num_bytes)}\tsha256 ${saved.sha256}`);
    }));

  remote(files.command('delete').description('delete a file (jobs that use it keep their snapshot)'))
    .argument('<file_ids...>')
    .action(act(async (ctx, ids: string[]) => {
      for (const id of ids) {
        const r = await ctx.client().deleteFile(id);
        ctx.out(ctx.json ? JSON.stringify(r) : `deleted ${r.file_id} (${r.file_uid})`);
      }
    }));
}
