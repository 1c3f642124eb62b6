/**
 * /v0.5/files: simple multipart upload (field `file`) and metadata. The upload streams straight to
 * the blob store; an oversize or broken upload stores nothing, and the rest of the request body is
 * drained so a client that sends the whole body first still reads the 413 (contract §4).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FtError } from '../../domain/errors.js';
import type { FileRecord } from '../../domain/types.js';
import type { HttpDeps } from '../server.js';

export function fileMetadataDto(f: FileRecord): Record<string, unknown> {
  return {
    file_id: f.file_id,
    file_uid: f.file_uid,
    file_type: f.file_type,
    num_bytes: f.num_bytes,
    file_status: 'FILE_STATUS_INGESTED',
    ingested: true,
    file_index: f.file_index,
    file_tags: {},
    file_attributes: { sha256: f.sha256, ...f.attributes },
  };
}

async function drain(req: FastifyRequest): Promise<void> {
  if (req.raw.readableEnded) return;
  await new Promise<void>((resolve) => {
    req.raw.on('end', resolve).on('error', resolve).on('close', resolve);
    req.raw.resume();
  });
}

export function registerFilesV05(app: FastifyInstance, deps: HttpDeps): void {
  app.post('/v0.5/files', { schema: { tags: ['files v0.5'], consumes: ['multipart/form-data'] } }, async (req) => {
    if (!req.isMultipart()) throw new FtError('invalid_parameter', 'send the file as multipart/form-data with a part named "file"');
    let stored: FileRecord | null = null;
    try {
      for await (const part of req.parts()) {
        if (part.type !== 'file') continue;
        if (part.fieldname !== 'file' || stored) {
          part.file.resume();
          continue;
        }
        stored = await deps.files.upload(req.principal.org.uuid, part.filename, part.mimetype, part.file);
      }
    } catch (err) {
      await drain(req);
      throw err;
    }
    if (!stored) throw new FtError('missing_parameter', 'the multipart body has no part named "file"');
    return { is_valid: true, file_id: stored.file_id, file_uid: stored.file_uid };
  });

  app.get<{ Params: { file_id: string } }>('/v0.5/files/metadata/:file_id', { schema: { tags: ['files v0.5'] } }, async (req) => {
    const f = await deps.files.get(req.principal.org.uuid, req.params.file_id);
    return { ...fileMetadataDto(f), is_valid: true };
  });
}
