/**
 * Browser-only simple upload with progress: fetch cannot report upload progress, XMLHttpRequest can.
 * Declared structurally (the client compiles without the DOM library); the dashboard calls it with a
 * File from an <input type=file>. Failures throw the same ApiError as every other call.
 */
import type { FtClient } from './client.js';
import { ApiError } from './errors.js';
import { ROUTES } from './routes.js';
import type { FileRef, WireError } from './types.js';

interface Xhr {
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  status: number;
  responseText: string;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
}

export function uploadWithProgress(client: FtClient, file: Blob, name: string, onProgress: (sent: number, total: number) => void, signal?: AbortSignal): Promise<FileRef> {
  const XhrCtor = (globalThis as unknown as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  if (!XhrCtor) return client.uploadFile(file, name); // not in a browser: no progress, same result
  return new Promise((resolve, reject) => {
    const xhr = new XhrCtor();
    const route = ROUTES.uploadFile;
    xhr.open(route.method, client.url(route));
    for (const [k, v] of Object.entries(client.authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(ApiError.connection(client.endpoint, new Error('network error during upload')));
    xhr.onabort = () => reject(ApiError.local('aborted', 'upload aborted'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as FileRef);
      const errors = (body as { errors?: WireError[] } | null)?.errors;
      reject(new ApiError(xhr.status, Array.isArray(errors) ? errors : []));
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
}
