/**
 * /v0.5/files/uploads: direct (multipart) uploads. initiate, parts/urls, parts/checkpoint, complete
 * and abort take the bearer key; the part PUT is reached through a signed URL instead (route option
 * `auth: 'signed'`, see http/auth.ts; the service checks the signature).
 * The PUT lives in its own encapsulated context whose only content-type parser leaves the body
 * unread, so the part streams from the socket to disk (the server-wide JSON parser would buffer it).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FtError } from '../../domain/errors.js';
import type { HttpDeps } from '../deps.js';
import { drainBody } from '../drain.js';

const tags = ['files v0.5 (direct uploads)'];
const BASE = '/v0.5/files/uploads';

const PartNumber = Type.Integer({ minimum: 0 });
const PartRefs = Type.Array(Type.Object({ part_number: PartNumber, part_token: Type.String({ minLength: 1, maxLength: 200 }) }), { maxItems: 10_000 });

const InitiateBody = Type.Object({
  filename: Type.String({ minLength: 1 }),
  file_type: Type.Optional(Type.String({ maxLength: 255 })),
  num_bytes: Type.Integer({ minimum: 0 }),
  resume_if_started: Type.Optional(Type.Boolean()),
});
const PartUrlsBody = Type.Object({ part_numbers: Type.Array(PartNumber, { minItems: 1, maxItems: 10_000 }) });
const CheckpointBody = Type.Object({ parts: PartRefs });
const CompleteBody = Type.Object({
  parts: Type.Optional(PartRefs),
  integrity_checksum: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
});
const UploadParams = Type.Object({ upload_id: Type.String({ minLength: 1, maxLength: 128 }) });

type Id = { upload_id: string };

/** Where clients reached us: part URLs must point back to the same host (or FTNODE_PUBLIC_URL). */
function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.host}`;
}

export function registerUploadsV05(app: FastifyInstance, deps: HttpDeps): void {
  const uploads = deps.files.uploads;
  const org = (req: FastifyRequest): string => req.principal.org.uuid;

  app.post<{ Body: { filename: string; file_type?: string; num_bytes: number; resume_if_started?: boolean } }>(
    `${BASE}/initiate`, { schema: { tags, body: InitiateBody } },
    async (req) => uploads.initiate(org(req), req.body, baseUrl(req)),
  );

  app.post<{ Params: Id; Body: { part_numbers: number[] } }>(
    `${BASE}/:upload_id/parts/urls`, { schema: { tags, params: UploadParams, body: PartUrlsBody } },
    async (req) => uploads.partUrls(org(req), req.params.upload_id, req.body.part_numbers, baseUrl(req)),
  );

  app.post<{ Params: Id; Body: { parts: Array<{ part_number: number; part_token: string }> } }>(
    `${BASE}/:upload_id/parts/checkpoint`, { schema: { tags, params: UploadParams, body: CheckpointBody } },
    async (req) => uploads.checkpoint(org(req), req.params.upload_id, req.body.parts),
  );

  app.post<{ Params: Id; Body: { parts?: Array<{ part_number: number; part_token: string }>; integrity_checksum?: string | null } }>(
    `${BASE}/:upload_id/complete`, { schema: { tags, params: UploadParams, body: CompleteBody } },
    async (req) => uploads.complete(org(req), req.params.upload_id, req.body),
  );

  // The body is ignored: the official client sends {}, the example script nothing at all.
  app.post<{ Params: Id }>(`${BASE}/:upload_id/abort`, { schema: { tags, params: UploadParams } }, async (req) => uploads.abort(org(req), req.params.upload_id));

  void app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined)); // leave the stream to the handler
    raw.put<{ Params: Id & { part_number: string }; Querystring: Record<string, unknown> }>(
      `${BASE}/:upload_id/parts/:part_number`, { schema: { tags, security: [] }, config: { auth: 'signed' } },
      async (req, reply) => {
        try {
          const n = Number(req.params.part_number);
          if (!/^\d{1,6}$/.test(req.params.part_number)) throw new FtError('invalid_parameter', `part number '${req.params.part_number}' is not valid`);
          const cl = req.headers['content-length'];
          const token = await uploads.putPart(req.params.upload_id, n, req.query, req.raw, cl === undefined ? undefined : Number(cl));
          return reply.header('etag', `"${token}"`).send();
        } catch (err) {
          await drainBody(req.raw); // read what the client sends before answering (no reset mid-PUT)
          throw err;
        }
      },
    );
  });
}
