/**
 * Completing a direct upload. The optional CRC-32C is checked first, from the part CRCs computed
 * as the parts arrived (crc32cCombine: 4-byte values, no data), so a mismatch costs no I/O. A
 * process alone on its data has usually hashed the parts as they arrived (upload-digest.ts): then
 * nothing is read, and the parts are committed as they are (blobs.stageParts with `verified`). The
 * parts were written once, in place (local disk: at their offsets of one staging file; S3: as the
 * parts of one multipart upload), so assembly writes nothing: the bytes are read once, in order,
 * through sha256 (for the file record), the dataset checks and a re-check of every part's CRC-32C
 * (blobs.stageParts; S3 completes the multipart upload first). A part whose bytes changed after it
 * was recorded is dropped and the answer names it missing, so the client sends it again. Only when
 * all agree is the object committed (local: fsync + rename) and the file version recorded, together
 * with the upload's move to completed (store.finishUpload). Any other failure reopens the upload
 * with its parts, so the client can complete again.
 * Fencing: the assembly runs under the complete_token its open → completing took, heartbeats the
 * upload every COMPLETING_HEARTBEAT_MS, and commits its bytes under a key of its own (token in the
 * name): an assembler that stalled past the stale limit, whose upload was reopened and completed
 * again, can neither record a version nor overwrite or delete the bytes of the one that was.
 */
import type { BlobStore, StagedBlob } from '../../blobs/blob-store.js';
import { FtError } from '../../domain/errors.js';
import type { Clock } from '../../lib/clock.js';
import { Crc32c, crc32cCombine, crc32cFromBase64, crc32cToBase64 } from '../../blobs/crc32c.js';
import type { PartRef, Store, UploadPart, UploadRecord } from '../../store/store.js';
import { inspectorFor } from './files-inspect.js';
import type { UploadDigestResult } from './upload-digest.js';
import { fileBlobKey } from './files-rules.js';

/** An assembler reports every COMPLETING_HEARTBEAT_MS; silent for COMPLETING_STALE_MS (6 beats), its upload reopens. */
export const COMPLETING_HEARTBEAT_MS = 10_000;
export const COMPLETING_STALE_MS = 60_000;

export interface CompleteAnswer {
  file_uid: string;
  file_name: string;
  num_bytes: number;
  file_status: 'Registered';
  file_attributes: { metadata_status: 'not_extracted' };
}

/** The checksum's wire form, or a 400 that says what it must look like. */
export function parseChecksum(text: string | null): number | null {
  if (text === null || text.trim() === '') return null;
  const v = crc32cFromBase64(text.trim());
  if (v === null) {
    throw new FtError('invalid_parameter', `integrity_checksum '${text.slice(0, 40)}' is not a CRC-32C: send the base64 of its 4 big-endian bytes (8 characters, e.g. "4waSgw==")`);
  }
  return v;
}

/** The CRC-32C of the whole file from the part CRCs, or null when a part's is unknown. */
function partsCrc(parts: UploadPart[]): number | null {
  let crc = 0; // the CRC of zero bytes
  for (const p of parts) {
    if (p.crc32c === null) return null;
    crc = crc32cCombine(crc, p.crc32c, p.num_bytes);
  }
  return crc;
}

function mismatch(given: string, numBytes: number, actual: number): FtError {
  return new FtError('checksum_mismatch', `integrity_checksum ${given.trim()} does not match the CRC-32C of the ${numBytes} bytes received (${crc32cToBase64(actual)}); nothing was stored`);
}

export async function assembleUpload(
  deps: { store: Store; blobs: BlobStore; clock: Clock; completes?: { digested: number; readBack: number } },
  u: UploadRecord,
  parts: UploadPart[],
  complete_token: number,
  checksum: string | null,
  digest: UploadDigestResult | null = null,
): Promise<CompleteAnswer> {
  const { store, blobs, clock } = deps;
  let staged: StagedBlob | null = null;
  let committed = false;
  let drop: PartRef[] = [];
  // Object storage: the parts joined one multipart upload under the key chosen at initiate, so the
  // key is per upload; local disk: the staging file is renamed under a key of this completion's own.
  const perUploadKey = blobs.streamsUploads;
  const blob_key = perUploadKey ? fileBlobKey(u.org_uuid, u.file_uid) : `${fileBlobKey(u.org_uuid, u.file_uid)}.c${complete_token}`;
  const beat = setInterval(() => void store.touchCompletingUpload(u.upload_id, complete_token, clock.now()).catch(() => undefined), COMPLETING_HEARTBEAT_MS);
  beat.unref();
  try {
    const expected = parseChecksum(checksum);
    const known = partsCrc(parts);
    if (expected !== null && known !== null && known !== expected) throw mismatch(checksum!, u.num_bytes, known);
    const crc = expected !== null && known === null ? new Crc32c() : null; // parts recorded before migration 3
    // Hashed as the parts arrived (upload-digest.ts): the bytes are not read again.
    const verified = digest && !crc ? digest : null;
    if (deps.completes) deps.completes[verified ? 'digested' : 'readBack']++;
    const inspector = verified ? null : inspectorFor(u.file_id, u.file_type);
    const tap = (chunk: Buffer): void => {
      crc?.update(chunk);
      inspector?.update(chunk);
    };
    const ordered = [...parts].sort((a, b) => a.part_number - b.part_number);
    const specs = ordered.map((p) => ({ number: p.part_number, name: p.staged_name, numBytes: p.num_bytes, crc32c: p.crc32c }));
    const r = await blobs.stageParts(u.upload_id, specs, verified ? { key: blob_key, verified } : { tap, key: blob_key });
    if (r.broken.length > 0) {
      // Their bytes changed after they were recorded (or are gone): forget them, so the client
      // (and a resume) sends them again; the answer is the one for missing parts.
      drop = ordered.filter((p) => r.broken.includes(p.part_number)).map((p) => ({ part_number: p.part_number, token: p.token }));
      throw new FtError('invalid_parameter', `part(s) ${listed(r.broken)} are missing: their stored bytes no longer match what was received (a re-sent part that broke off, or two PUTs of one part at once); PUT them and list them with their part_token, then complete again`);
    }
    staged = r.staged!;
    if (staged.size !== u.num_bytes) throw new Error(`upload ${u.upload_id}: assembled ${staged.size} bytes, expected ${u.num_bytes}`);
    if (crc && crc.value() !== expected) throw mismatch(checksum!, u.num_bytes, crc.value());
    await staged.commit(blob_key);
    committed = true;
    const now = clock.now();
    const rec = await store.finishUpload(u.upload_id, complete_token, {
      file_uid: u.file_uid, org_uuid: u.org_uuid, file_id: u.file_id, file_type: u.file_type, num_bytes: staged.size,
      sha256: staged.sha256, blob_key, status: 'ready', attributes: verified ? verified.attributes : inspector?.result() ?? {}, created_at: now, deleted_at: null,
    }, now);
    if (!rec) throw new Error(`upload ${u.upload_id} left the completing state during assembly`);
    committed = false; // recorded: the bytes belong to the file version now
    await blobs.deleteParts(u.upload_id);
    return { file_uid: u.file_uid, file_name: u.file_id, num_bytes: staged.size, file_status: 'Registered', file_attributes: { metadata_status: 'not_extracted' } };
  } catch (err) {
    await staged?.discard();
    // A per-upload key (S3) holds checked bytes that the next complete of this upload finds again,
    // or that a completion which fenced this one out has recorded: never deleted here.
    if (committed && !perUploadKey) await blobs.delete(blob_key);
    await store.reopenUpload(u.upload_id, complete_token, clock.now(), drop);
    throw err;
  } finally {
    clearInterval(beat);
  }
}

function listed(nums: number[]): string {
  return nums.length <= 20 ? nums.join(', ') : `${nums.slice(0, 20).join(', ')} and ${nums.length - 20} more`;
}
