/**
 * A CLI failure with its own error code and exit code (e.g. a usage problem found after parsing, a
 * local file that cannot be read). Its own module so context.ts and local-files.ts both use it
 * without importing each other.
 */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly exitCode = 1) {
    super(message);
  }
}
