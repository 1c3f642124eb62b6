/**
 * HTTP load generator, run as its own process (bench/lib/load.ts spawns it) so that it never shares
 * the server's event loop. Reads one JSON job description on stdin, writes one JSON result on stdout.
 *
 * `connections` loops each keep one keep-alive socket (node:http Agent, keepAlive, maxSockets =
 * connections) and issue requests back to back (closed loop: a new request as soon as the previous
 * response body has been read) until `requests` have been sent in all; `warmup` requests go first
 * and are not recorded. Paths are taken in order from `paths` (cycled), so the caller decides the
 * random ids/offsets (seeded: every run requests the same sequence). Latency = request written →
 * last body byte read, per request, in ms.
 */
import http from 'node:http';

export interface LoadJob {
  origin: string; // http://127.0.0.1:port
  paths: string[];
  headers?: Record<string, string>;
  connections: number;
  requests: number;
  warmup: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  bytes: number;
  sockets: number;
  latencies: number[]; // ms, in completion order
}

async function run(job: LoadJob): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });
  const url = new URL(job.origin);
  const sockets = new Set<unknown>();
  const statuses: Record<string, number> = {};
  let errors = 0;
  let bytes = 0;

  const one = (path: string): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: url.hostname, port: url.port, path, method: 'GET', agent, headers: job.headers }, (res) => {
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          statuses[code] = (statuses[code] ?? 0) + 1;
          if (code < 200 || code >= 300) errors++;
          resolve(performance.now() - t0);
        });
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('error', () => {
        errors++;
        resolve(performance.now() - t0);
      });
      req.end();
    });

  const phase = async (count: number, record: Float64Array | null): Promise<number> => {
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    const loop = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const lat = await one(job.paths[i % job.paths.length]!);
        if (record) record[done] = lat;
        done++;
      }
    };
    await Promise.all(Array.from({ length: job.connections }, loop));
    return (performance.now() - t0) / 1000;
  };

  if (job.warmup > 0) await phase(job.warmup, null);
  for (const k of Object.keys(statuses)) delete statuses[k];
  errors = 0;
  bytes = 0;
  const lat = new Float64Array(job.requests);
  const seconds = await phase(job.requests, lat);
  agent.destroy();
  return { requests: job.requests, errors, statuses, seconds, rps: job.requests / seconds, bytes, sockets: sockets.size, latencies: Array.from(lat, (v) => +v.toFixed(4)) };
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const result = await run(JSON.parse(input) as LoadJob);
  process.stdout.write(JSON.stringify(result), () => process.exit(0));
}

void main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
