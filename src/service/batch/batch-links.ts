/**
 * The `ref` of a listed batch output (docs/batch.md "Output refs") and the check of presigned ones.
 * Clients written for Archetype's API fetch a ref in one of two ways, and ftnode hands out both:
 * - relative: `/batch/jobs/<job id>/outputs/<filename>`, relative to the version root: the client
 *   prepends its base, which ends in `/v0.5`, and sends its API key;
 * - presigned: an absolute `http(s)://…/v0.5/signed/batch/outputs/<job uuid>/<filename>?expires&sig`
 *   fetched as it is, with no key, until it expires (1 h by default, as the hosted API's URLs).
 * Mode `auto` (the default) is presigned when a public URL is configured (the server then knows the
 * address clients reach it by), else relative: a Host header seen behind a proxy may be an internal
 * name, while a relative ref works wherever the client's base does.
 * Signatures cover (job uuid, filename, expires) under the direct-upload signing key with their own
 * purpose string, so a part URL's signature never opens an output and vice versa. The job uuid, not
 * the id, is in the URL: ids are unique per organization only, and the URL carries no key to say which.
 */
import { FtError, type ErrorDetail } from '../../domain/errors.js';
import type { Clock } from '../../lib/clock.js';
import { OUTPUT_NAME } from './batch-outputs.js';
import { loadOrCreateSigningKey, serverRoot, UrlSigner } from '../files/uploads-signing.js';
import type { ServiceCore } from '../deps.js';

export type OutputRefMode = 'auto' | 'relative' | 'presigned';

export interface OutputLinkOptions {
  mode: OutputRefMode;
  publicUrl: string | null; // server root clients reach (behind a proxy); null = the request's Host
  ttlMs: number; // lifetime of a presigned ref
  signingKeyFile: string; // the direct uploads' key file (one secret for every signed URL)
}

/** Route of presigned output GETs (auth: 'signed'); every signed GET lives under /v0.5/signed/. */
export const SIGNED_OUTPUT_ROUTE = '/v0.5/signed/batch/outputs';

const PURPOSE = 'ftnode-output-v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class OutputLinks {
  readonly mode: 'relative' | 'presigned';
  /** On object storage every mode but an explicit `relative` hands out the store's own presigned GET (batch-service.ts). */
  readonly objectStoreRefs: boolean;
  private readonly signer: UrlSigner;

  private readonly clock: Clock;
  private readonly opts: OutputLinkOptions;

  constructor(d: Pick<ServiceCore, 'clock'> & { options: OutputLinkOptions }) {
    ({ clock: this.clock, options: this.opts } = d);
    const opts = this.opts;
    this.mode = opts.mode === 'auto' ? (opts.publicUrl ? 'presigned' : 'relative') : opts.mode;
    this.objectStoreRefs = opts.mode !== 'relative';
    this.signer = new UrlSigner(loadOrCreateSigningKey(opts.signingKeyFile));
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /** The injected clock's time, for signatures made elsewhere (object-store presigned GETs). */
  now(): number {
    return this.clock.now();
  }

  /** `requestBase`: `<protocol>://<host>` of the listing request, used when no public URL is set. */
  ref(job: { id: string; uuid: string }, filename: string, requestBase: string): string {
    const name = encodeURIComponent(filename);
    if (this.mode === 'relative') return `/batch/jobs/${encodeURIComponent(job.id)}/outputs/${name}`;
    const expires = Math.floor((this.clock.now() + this.opts.ttlMs) / 1000);
    const sig = this.signer.sign(PURPOSE, [job.uuid, filename], expires);
    return `${serverRoot(this.opts.publicUrl, requestBase)}${SIGNED_OUTPUT_ROUTE}/${job.uuid}/${name}?expires=${expires}&sig=${sig}`;
  }

  /**
   * Throws 403 `unauthorized` unless (job uuid, filename, expires) carry a valid signature that has
   * not expired; 403 as for part URLs (docs/files.md), as S3 answers a bad presigned URL.
   */
  verify(job_uuid: string, filename: string, q: { expires?: unknown; sig?: unknown }): void {
    const verdict = UUID.test(job_uuid) && OUTPUT_NAME.test(filename)
      ? this.signer.verify(PURPOSE, [job_uuid, filename], q.expires, q.sig, this.clock.now())
      : 'bad_signature';
    if (verdict === 'ok') return;
    const detail: ErrorDetail = {
      code: 'unauthorized',
      message: verdict === 'expired' ? 'this presigned output URL has expired' : 'this presigned output URL has an invalid signature',
      suggestion: 'List the job outputs again (GET /v0.5/batch/jobs/{id}/outputs) for a fresh ref.',
    };
    throw FtError.many([detail]).in('permission');
  }
}
