/** Runs one load-generator process (loadgen.ts) against a server and summarises what it measured. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './loadgen.js';
import { summarize, type Summary } from './stats.js';

/** Several runs as one: requests/s over the summed time, latency percentiles over every request. */
export function pool(runs: LoadSummary[]): { requests: number; seconds: number; rps: number; latency: Summary; roundRps: number[] } {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const all = new Float64Array(requests);
  let k = 0;
  for (const r of runs) all.set(r.latencies, k), (k += r.latencies.length);
  return { requests, seconds, rps: requests / seconds, latency: summarize(all), roundRps: runs.map((r) => r.rps) };
}

export const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url));

export interface LoadSummary {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  bytesPerResponse: number;
  sockets: number;
  latency: Summary; // ms
  latencies: Float64Array; // ms, every request, for pooling rounds
}

export function runLoad(job: LoadJob): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOADGEN], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with code ${code}`));
      const r = JSON.parse(out) as LoadResult;
      resolve({
        requests: r.requests, errors: r.errors, statuses: r.statuses, seconds: r.seconds, rps: r.rps,
        bytesPerResponse: Math.round(r.bytes / r.requests), sockets: r.sockets, latency: summarize(r.latencies),
        latencies: Float64Array.from(r.latencies),
      });
    });
    child.stdin.end(JSON.stringify(job));
  });
}
