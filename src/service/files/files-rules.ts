/**
 * The rules every upload path shares (docs/spec.md#files): which names are safe,
 * which content types each path takes, where a version's bytes live, and the size-limit error.
 */
import { FtError } from '../../domain/errors.js';

/** Content types POST /v0.5/files accepts (docs/spec.md#files); JSONL arrives as text/plain. */
export const SIMPLE_UPLOAD_TYPES = ['image/jpeg', 'image/png', 'video/mp4', 'text/plain', 'text/csv', 'application/json'];

const BY_EXTENSION: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4', '.csv': 'text/csv',
  '.json': 'text/plain', '.jsonl': 'text/plain', '.txt': 'text/plain', '.text': 'text/plain', '.yaml': 'text/plain', '.yml': 'text/plain',
};

/** Refuses names with a path separator, `..`, a NUL, control characters or more than 255 bytes. */
export function checkFileName(name: string): void {
  if (!name || Buffer.byteLength(name) > 255 || /[/\\\0]/.test(name) || name === '.' || name.includes('..') || /[\x00-\x1f]/.test(name)) {
    throw new FtError('invalid_parameter', `file name '${name.slice(0, 300)}' is not allowed: no path separators, '..', NUL or control characters, at most 255 bytes`);
  }
}

/**
 * The stored content type. A generic `application/octet-stream` part (what curl sends for an unknown
 * extension such as .jsonl) is resolved from the extension, as the official client would have sent it.
 */
export function resolveContentType(name: string, declared: string | undefined): string {
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && type !== 'application/octet-stream') return type;
  const ext = name.slice(name.lastIndexOf('.')).toLowerCase();
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}

export function fileBlobKey(org_uuid: string, file_uid: string): string {
  return `files/${org_uuid}/${file_uid}`;
}

/** The version a blob key under `files/` belongs to: its base name up to the first dot (`.c<token>`: a direct upload's completion). */
export function fileUidOfBlobKey(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return dot < 0 ? base : base.slice(0, dot);
}

export function tooLarge(limit: number, what = 'file'): FtError {
  return new FtError('invalid_file_size', `${what} is larger than the ${limit}-byte limit for simple uploads; use a direct upload (POST /v0.5/files/uploads/initiate) for larger files`);
}

/**
 * Types a direct upload's initiate accepts: the simple-upload types, JSON Lines as
 * application/x-ndjson (refused by POST /files, accepted here per docs/spec.md#files), and opaque bytes.
 */
export const DIRECT_UPLOAD_TYPES = [...SIMPLE_UPLOAD_TYPES, 'application/x-ndjson', 'application/octet-stream'];
