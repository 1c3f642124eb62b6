/**
 * Completing a direct upload. The optional CRC-32C is checked first, from the part CRCs computed
 * as the parts arrived (crc32cCombine: 4-byte values, no data), so a mismatch costs no I/O. Then
 * the parts, in part order, are streamed through one pass that computes sha256 (for the file record)
 * and the dataset checks into one staged blob; nothing is held in memory beyond a 1 MiB read buffer.
 * Only when the size agrees is the blob committed (atomic rename) and the file version recorded,
 * together with the upload's move to completed (store.finishUpload). Any failure discards the staged
 * bytes and reopens the upload (its parts are kept), so the client can fix parts and complete again.
 * Fencing: the assembly runs under the complete_token its open → completing took, heartbeats the
 * upload every COMPLETING_HEARTBEAT_MS, and commits its bytes under a key of its own (token in the
 * name): an assembler that stalled past the stale limit, whose upload was reopened and completed
 * again, can neither record a version nor overwrite or delete the bytes of the one that was.
 */
import type { BlobStore, StagedBlob } from '../../blobs/blob-store.js';
import { FtError } from '../../domain/errors.js';
import type { Clock } from '../../lib/clock.js';
import { Crc32c, crc32cCombine, crc32cFromBase64, crc32cToBase64 } from '../../lib/crc32c.js';
import type { Store, UploadPart, UploadRecord } from '../../store/store.js';
import { inspectorFor } from './files-inspect.js';
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
  deps: { store: Store; blobs: BlobStore; clock: Clock },
  u: UploadRecord,
  parts: UploadPart[],
  complete_token: number,
  checksum: string | null,
): Promise<CompleteAnswer> {
  const { store, blobs, clock } = deps;
  let staged: StagedBlob | null = null;
  let committed = false;
  const blob_key = `${fileBlobKey(u.org_uuid, u.file_uid)}.c${complete_token}`;
  const beat = setInterval(() => void store.touchCompletingUpload(u.upload_id, complete_token, clock.now()).catch(() => undefined), COMPLETING_HEARTBEAT_MS);
  beat.unref();
  try {
    const expected = parseChecksum(checksum);
    const known = partsCrc(parts);
    if (expected !== null && known !== null && known !== expected) throw mismatch(checksum!, u.num_bytes, known);
    const crc = expected !== null && known === null ? new Crc32c() : null; // parts recorded before migration 3
    const inspector = inspectorFor(u.file_id, u.file_type);
    const tap = (chunk: Buffer): void => {
      crc?.update(chunk);
      inspector?.update(chunk);
    };
    staged = await blobs.stageParts(u.upload_id, parts.map((p) => p.staged_name), { tap, key: blob_key });
    if (staged.size !== u.num_bytes) throw new Error(`upload ${u.upload_id}: assembled ${staged.size} bytes, expected ${u.num_bytes}`);
    if (crc && crc.value() !== expected) throw mismatch(checksum!, u.num_bytes, crc.value());
    await staged.commit(blob_key);
    committed = true;
    const now = clock.now();
    const rec = await store.finishUpload(u.upload_id, complete_token, {
      file_uid: u.file_uid, org_uuid: u.org_uuid, file_id: u.file_id, file_type: u.file_type, num_bytes: staged.size,
      sha256: staged.sha256, blob_key, status: 'ready', attributes: inspector?.result() ?? {}, created_at: now, deleted_at: null,
    }, now);
    if (!rec) throw new Error(`upload ${u.upload_id} left the completing state during assembly`);
    committed = false; // recorded: the bytes belong to the file version now
    await blobs.deleteParts(u.upload_id);
    return { file_uid: u.file_uid, file_name: u.file_id, num_bytes: staged.size, file_status: 'Registered', file_attributes: { metadata_status: 'not_extracted' } };
  } catch (err) {
    await staged?.discard();
    if (committed) await blobs.delete(blob_key);
    await store.reopenUpload(u.upload_id, complete_token, clock.now());
    throw err;
  } finally {
    clearInterval(beat);
  }
}
