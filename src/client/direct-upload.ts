/**
 * Direct (multipart) upload of a large file from disk (docs/spec.md#files): initiate with
 * `resume_if_started` (so re-running after a failure sends only the parts not yet checkpointed), PUT
 * each part's byte range to its signed URL (a few at a time, each streamed from disk), checkpoint the
 * part tokens as parts finish, then complete with the tokens not yet checkpointed and, when the server
 * offers `crc32c`, the file's CRC-32C (read from disk alongside the upload) so it verifies the whole.
 * A failed run leaves the upload open on the server for the next run to resume; nothing is held in
 * memory but the tokens.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { FtClient } from './client.js';
import { fileCrc32c } from './crc32c.js';
import { contentTypeOf, type Progress } from './node.js';
import type { CompletedUpload, PartToken, UploadPart } from './types.js';

export interface DirectUploadOptions {
  name?: string;
  onProgress?: Progress;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface DirectUploadResult extends CompletedUpload {
  upload_id: string;
  resumed: boolean;
  parts_sent: number;
}

const REFRESH_BEFORE_MS = 60_000; // ask for a fresh part URL when the one we hold expires within a minute

export async function directUpload(client: FtClient, path: string, o: DirectUploadOptions = {}): Promise<DirectUploadResult> {
  const name = o.name ?? basename(path);
  const size = (await stat(path)).size;
  const up = await client.initiateUpload({ filename: name, file_type: contentTypeOf(name), num_bytes: size, resume_if_started: true });
  const checksum = up.integrity_algorithm === 'crc32c' ? fileCrc32c(path) : Promise.resolve(undefined);
  checksum.catch(() => undefined); // awaited before complete; this only keeps an early failure from going unhandled
  const pending = [...up.parts].sort((a, b) => a.part_number - b.part_number);
  let done = size - pending.reduce((n, p) => n + p.length, 0);
  o.onProgress?.(done, size);

  const unCheckpointed: PartToken[] = [];
  let checkpointing: Promise<unknown> = Promise.resolve();
  const flush = (): Promise<unknown> => {
    const batch = unCheckpointed.splice(0);
    if (batch.length > 0) {
      checkpointing = checkpointing.then(() => client.checkpointUpload(up.upload_id, batch)).catch((err: unknown) => {
        for (const t of batch) unCheckpointed.push(t); // complete sends whatever was not checkpointed (up to every part)
        throw err;
      });
    }
    return checkpointing;
  };

  const sendOne = async (part: UploadPart): Promise<void> => {
    const fresh = await freshUrl(client, up.upload_id, part);
    let sent = 0;
    const source = createReadStream(path, { start: part.offset, end: part.offset + part.length - 1, highWaterMark: 1 << 20 });
    source.on('data', (c: Buffer | string) => {
      sent += c.length;
      o.onProgress?.(done + sent, size);
    });
    const body = Readable.toWeb(source) as ReadableStream<Uint8Array>;
    const etag = await client.putPart(fresh, body, o.signal);
    done += part.length;
    o.onProgress?.(done, size);
    unCheckpointed.push({ part_number: part.part_number, part_token: etag });
    if (unCheckpointed.length >= (o.concurrency ?? 4)) void flush().catch(() => undefined);
  };

  const queue = [...pending];
  const lanes = Array.from({ length: Math.min(o.concurrency ?? 4, queue.length) }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) await sendOne(p);
  });
  await Promise.all(lanes);
  await flush().catch(() => undefined); // whatever failed to checkpoint goes with complete
  const completed = await client.completeUpload(up.upload_id, unCheckpointed.splice(0), await checksum);
  return { ...completed, upload_id: up.upload_id, resumed: up.is_resume, parts_sent: pending.length };
}

async function freshUrl(client: FtClient, uploadId: string, part: UploadPart): Promise<UploadPart> {
  const expires = typeof part.expires_at === 'number' ? part.expires_at * (part.expires_at < 1e12 ? 1000 : 1) : Date.parse(part.expires_at);
  if (Number.isFinite(expires) && expires - Date.now() > REFRESH_BEFORE_MS) return part;
  const { parts } = await client.partUrls(uploadId, [part.part_number]);
  return { ...part, ...parts[0]! };
}
