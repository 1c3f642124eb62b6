/**
 * The signed-in state: the API key lives in localStorage (`ftnode.apiKey`) and the server is the
 * page's own origin. Every page gets its client from here; a 401 anywhere signs the user out.
 */
import { ApiError, FtClient } from '../../src/client/index.js';

const KEY = 'ftnode.apiKey';

export function apiKey(): string | null {
  return localStorage.getItem(KEY);
}

export function client(key = apiKey()): FtClient {
  return new FtClient({ endpoint: location.origin, apiKey: key });
}

/** Checks the key against the server before keeping it; throws the server's ApiError when refused. */
export async function signIn(key: string): Promise<void> {
  await client(key.trim()).models();
  localStorage.setItem(KEY, key.trim());
}

export function signOut(): void {
  localStorage.removeItem(KEY);
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
