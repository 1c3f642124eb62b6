/**
 * Prometheus metrics (text exposition format 0.0.4), hand-written: counters and histograms with
 * labels, plus collectors that read current values (jobs by status, queue depth) at scrape time.
 * The names and meanings are listed in docs/scaling.md. Per replica: counters count what THIS
 * process did (its claims, its HTTP requests), so summing over replicas is right; the store-derived
 * gauges are the same on every replica (take max, not sum).
 */

type Labels = Record<string, string>;

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const fmt = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const key = (labels: Labels): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; v: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const cur = this.values.get(k);
    if (cur) cur.v += by;
    else this.values.set(k, { labels, v: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.v ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, v } of this.values.values()) out.push(`${this.name}${fmt(labels)} ${v}`);
    return out;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; n: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, n: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.n++;
  }
  count(labels: Labels = {}): number {
    return this.series.get(key(labels))?.n ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${fmt({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${fmt({ ...s.labels, le: '+Inf' })} ${s.n}`);
      out.push(`${this.name}_sum${fmt(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${fmt(s.labels)} ${s.n}`);
    }
    return out;
  }
}

/** A gauge read at scrape time: `read` returns the current value of each label set. */
export class Gauge implements Metric {
  last: Array<[Labels, number]> = [];
  constructor(readonly name: string, readonly help: string, private readonly read: () => Promise<Array<[Labels, number]>> | Array<[Labels, number]>) {}
  async collect(): Promise<void> {
    this.last = await this.read();
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...this.last.map(([l, v]) => `${this.name}${fmt(l)} ${v}`)];
  }
}

// Seconds. Claims: a wake-up takes ~1 ms, a queue can take minutes. HTTP: reads take ~0.2 ms, uploads minutes.
const CLAIM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** Every metric ftnode exports; one instance per process. */
export class Metrics {
  readonly claimLatency = new Histogram('ftnode_claim_latency_seconds', 'Time from a job being created to its first claim by a worker (queue wait plus wake-up)', CLAIM_BUCKETS);
  readonly claims = new Counter('ftnode_claims_total', 'Attempts claimed through this process, by kind (first attempt or retry)');
  readonly attemptRetries = new Counter('ftnode_attempt_retries_total', 'Claims of a job that had an earlier attempt (retries after a lost worker)');
  readonly leaseExpirations = new Counter('ftnode_lease_expirations_total', 'Attempts found lost by this process (lease expired, or worker known dead), by what happened to the job');
  readonly controlPlaneStops = new Counter('ftnode_control_plane_stops_total', 'STOPPING jobs finalized by the control plane (worker lost while stopping, or stop grace budget spent)');
  readonly fencedRefusals = new Counter('ftnode_fenced_refusals_total', 'Worker writes refused because the attempt no longer held its lease, by operation');
  readonly http = new Histogram('ftnode_http_request_duration_seconds', 'HTTP request latency by method, route pattern and status', HTTP_BUCKETS);
  private readonly gauges: Gauge[] = [];

  gauge(name: string, help: string, read: () => Promise<Array<[Labels, number]>> | Array<[Labels, number]>): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  async render(): Promise<string> {
    await Promise.all(this.gauges.map((g) => g.collect()));
    const all: Metric[] = [...this.gauges, this.claimLatency, this.claims, this.attemptRetries, this.leaseExpirations, this.controlPlaneStops, this.fencedRefusals, this.http];
    return `${all.flatMap((m) => m.render()).join('\n')}\n`;
  }
}
