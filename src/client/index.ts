/**
 * The typed ftnode client, browser-safe (fetch only): the CLI, the dashboard and the tests import it
 * from here. Node-only helpers (streamed file uploads with progress, downloads to disk with sha256
 * checks) live in ./node.js.
 */
export { FtClient, normalizeEndpoint, type ClientOptions, type CallOptions, type Query } from './client.js';
export { ApiError } from './errors.js';
export { ROUTES, fillPath, pathShape, type Route, type RouteName, type Method } from './routes.js';
export { DEFAULT_RECONNECT_FOR_MS, followJob, followJobs, parseSse, type FollowOptions, type JobStreamMessage, type SseMessage } from './sse.js';
export * from './types.js';
export { uploadWithProgress } from './upload-xhr.js';
export { formatBytes } from './format.js';
export { bestCheckpoint, bestText, formatDuration, summarizeJob, summaryText, type BestCheckpoint, type JobSummary, type Outcome } from './summary.js';
