/**
 * Local file problems in the CLI's own words and codes, so a directory or an unreadable path is never
 * reported as the server being unreachable (reading a directory used to surface as
 * `connection_failed … EISDIR` from inside the upload stream). Files are checked before anything is
 * sent; errors from the file system later (a disk that fills up mid-download) map the same way.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { CliError } from './cli-error.js';

/** Node system error code → CLI code (docs/cli.md "Errors"). */
const CODES: Record<string, [code: string, why: string]> = {
  ENOENT: ['path_not_found', 'no such file or directory'],
  ENOTDIR: ['path_not_found', 'a part of the path is not a directory'],
  EISDIR: ['path_is_directory', 'is a directory'],
  EACCES: ['permission_denied', 'permission denied'],
  EPERM: ['permission_denied', 'operation not permitted'],
  ENOSPC: ['disk_full', 'no space left on the device'],
  EDQUOT: ['disk_full', 'disk quota exceeded'],
  EROFS: ['permission_denied', 'read-only file system'],
};

export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string';
}

/** A system error on `path` → CliError with a local code (`local_io_error` for the rest). */
export function localFileError(err: NodeJS.ErrnoException, path = err.path ?? '', doing = 'read'): CliError {
  const [code, why] = CODES[err.code ?? ''] ?? ['local_io_error', err.message];
  return new CliError(code, `cannot ${doing} ${path}: ${why}`);
}

/** A regular file that can be read: its size. Directories, missing and unreadable paths fail with their own code. */
export async function readableFile(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
    await access(path, constants.R_OK);
  } catch (err) {
    throw isSystemError(err) ? localFileError(err, path) : err;
  }
  if (info.isDirectory()) throw new CliError('path_is_directory', `${path} is a directory: give the files in it (e.g. ${path.replace(/\/+$/, '')}/*)`);
  if (!info.isFile()) throw new CliError('not_a_file', `${path} is not a regular file`);
  return info.size;
}
