/**
 * Every route the client calls, as OpenAPI-style templates (`{job_id}`), in one table. The client
 * builds its URLs only from this table, and test/client-openapi.test.ts checks each entry against the
 * server's /openapi.json (same path, same method; parameter names aside, since the files routes are
 * wildcards there) so the two cannot drift. Optional features (direct uploads) are checked at run time
 * with FtClient.supports(), which reads the same document.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: Method;
  path: string;
}

const J5 = '/v0.5/fine-tune/jobs';
const J6 = '/v0.6/fine_tuning/jobs';
const F = '/v0.5/files';
const UP = '/v0.5/files/uploads';
const B = '/v0.5/batch/jobs';

export const ROUTES = {
  status: { method: 'GET', path: '/v0.5/fine-tune/status' },
  models: { method: 'GET', path: '/v0.5/fine-tune/models' },

  createJob: { method: 'POST', path: J5 },
  listJobs: { method: 'GET', path: J5 },
  getJob: { method: 'GET', path: `${J5}/{job_id}` },
  deleteJob: { method: 'DELETE', path: `${J5}/{job_id}` },
  stopJob: { method: 'PUT', path: `${J5}/{job_id}/stop` },
  cancelJob: { method: 'PUT', path: `${J5}/{job_id}/cancel` },
  jobMetrics: { method: 'GET', path: `${J5}/{job_id}/metrics` },
  jobEvents: { method: 'GET', path: `${J5}/{job_id}/events` },
  jobCheckpoints: { method: 'GET', path: `${J5}/{job_id}/checkpoints` },
  downloadCheckpoint: { method: 'GET', path: `${J5}/{job_id}/checkpoints/{ckp_id}/download` },
  inferenceConfig: { method: 'GET', path: `${J5}/{job_id}/inference-config` },
  predict: { method: 'POST', path: `${J5}/{job_id}/predict` },

  createJobV06: { method: 'POST', path: J6 },
  listJobsV06: { method: 'GET', path: J6 },
  getJobV06: { method: 'GET', path: `${J6}/{job_id}` },
  cancelJobV06: { method: 'POST', path: `${J6}/{job_id}/cancel` },
  stopJobV06: { method: 'POST', path: `${J6}/{job_id}/stop` },
  jobEventsV06: { method: 'GET', path: `${J6}/{job_id}/events` },
  jobCheckpointsV06: { method: 'GET', path: `${J6}/{job_id}/checkpoints` },

  createBatchJob: { method: 'POST', path: B },
  listBatchJobs: { method: 'GET', path: B },
  getBatchJob: { method: 'GET', path: `${B}/{job_id}` },
  cancelBatchJob: { method: 'POST', path: `${B}/{job_id}/cancel` },
  batchEvents: { method: 'GET', path: `${B}/{job_id}/events` },
  batchOutputs: { method: 'GET', path: `${B}/{job_id}/outputs` },

  uploadFile: { method: 'POST', path: F },
  fileMetadata: { method: 'GET', path: `${F}/metadata/{file_id}` },
  uploadFileBase64: { method: 'POST', path: `${F}/base64` },
  filesInfo: { method: 'GET', path: `${F}/info` },
  listFiles: { method: 'GET', path: `${F}/metadata` },
  downloadFile: { method: 'GET', path: `${F}/download/{file_id}` },
  deleteFile: { method: 'DELETE', path: `${F}/delete/{file_id}` },
  initiateUpload: { method: 'POST', path: `${UP}/initiate` },
  uploadPartUrls: { method: 'POST', path: `${UP}/{upload_id}/parts/urls` },
  checkpointUpload: { method: 'POST', path: `${UP}/{upload_id}/parts/checkpoint` },
  completeUpload: { method: 'POST', path: `${UP}/{upload_id}/complete` },
  abortUpload: { method: 'POST', path: `${UP}/{upload_id}/abort` },
  /** Reached through the signed URL the server hands out (FtClient.putPart), never built from here. */
  uploadPart: { method: 'PUT', path: `${UP}/{upload_id}/parts/{part_number}` },
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;

/** A path with its parameter names erased, for comparing with the OpenAPI document: `/a/{x}/b` → `/a/{}/b`. */
export function pathShape(template: string): string {
  return template.replace(/\{[^}]*\}/g, '{}');
}

/** `/v0.5/fine-tune/jobs/{job_id}` + {job_id: 'a b'} → `/v0.5/fine-tune/jobs/a%20b`. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined || v === '') throw new TypeError(`missing path parameter '${name}' for ${template}`);
    return encodeURIComponent(v);
  });
}
