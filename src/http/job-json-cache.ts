/**
 * Rendered wire JSON of jobs for list pages, reused while a job's row is unchanged. A page is read
 * as keys first (uuid + row_version, from the list index alone), then only the jobs whose cached
 * text is missing or of another row_version are read and rendered. Every write to a job's row bumps
 * row_version (a database trigger, so no write path can forget), which makes a stale entry
 * impossible, on any number of replicas: each holds its own cache and checks the version it reads.
 * Why: a page of 100 read and rendered whole cost ~650 µs of server CPU (SQL ~280 µs, assembly
 * ~185 µs, timestamps ~90 µs); from the cache, ~100 µs of index scan and joins (docs/benchmarks-core.md).
 * Bounded by the characters it holds (default 16 Mi, ~20,000 records of ~800 characters); the
 * oldest insertions go first.
 */
import { jobViewJson } from '../api/dto.js';
import type { JobView, JobViewKey } from '../domain/types.js';

export const JOB_JSON_CACHE_CHARS = 16 * 1024 * 1024;

interface Entry {
  row_version: number;
  json: string;
}

export class JobJsonCache {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxChars = JOB_JSON_CACHE_CHARS) {}

  /** The JSON array of the page `keys` names, in that order; `fetch` reads the jobs not cached. */
  async page(keys: JobViewKey[], fetch: (uuids: string[]) => Promise<JobView[]>): Promise<string> {
    const parts: Array<string | undefined> = new Array(keys.length);
    const missing: string[] = [];
    const slot = new Map<string, number>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const e = this.entries.get(k.uuid);
      if (e !== undefined && e.row_version === k.row_version) parts[i] = e.json;
      else {
        missing.push(k.uuid);
        slot.set(k.uuid, i);
      }
    }
    this.hits += keys.length - missing.length;
    this.misses += missing.length;
    if (missing.length > 0) {
      // A job written between the two reads comes back in its newer version: that one is shown.
      for (const v of await fetch(missing)) {
        const json = jobViewJson(v);
        this.put(v.uuid, v.row_version, json);
        parts[slot.get(v.uuid)!] = json;
      }
    }
    let out = '[';
    let first = true;
    for (const p of parts) {
      if (p === undefined) continue; // deleted between the two reads: left out
      out += first ? p : `,${p}`;
      first = false;
    }
    return `${out}]`;
  }

  get size(): number {
    return this.entries.size;
  }

  private put(uuid: string, row_version: number, json: string): void {
    const old = this.entries.get(uuid);
    if (old) {
      this.chars -= old.json.length;
      this.entries.delete(uuid); // re-inserted last: newest
    }
    if (json.length > this.maxChars) return;
    this.entries.set(uuid, { row_version, json });
    this.chars += json.length;
    for (const [k, e] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(k);
      this.chars -= e.json.length;
    }
  }
}
