/**
 * `ftnode gc`: objects of the blob store that no record names, on either backend. A crash between an
 * object's commit and its row's insert (or between a delete of the row and of the bytes) leaves
 * one; so does a job deleted while a replica was down. Only objects last written at least
 * `minAgeMs` ago are candidates (default 1 h: a commit in flight wrote its bytes just before its
 * row), and each is checked against the database just before it is reported:
 * - `files/<org>/<file_uid>[.c<token>]`: no unpurged version row names that key;
 * - `checkpoints/<job_uuid>/…`: the job is gone, or none of its checkpoints names the key;
 * - `outputs/<job_uuid>/<out id>/<name>`: the job is gone, or no listed output names the key (a
 *   refused upload whose delete failed, or one a later commit of the same name replaced);
 * - `orgs/<org>/inference-configs/<job id>.yaml`: no job of that id in that org.
 * Temporary objects (`.tmp/`, crashed writes) older than the bound go too.
 */
import type { BlobStore } from '../blobs/blob-store.js';
import type { Store } from '../store/store.js';
import { listCommittedOutputs } from './batch/batch-outputs.js';
import { inferenceConfigKey } from './jobs/finalize.js';
import { fileUidOfBlobKey } from './files/files-rules.js';

export interface GcReport {
  orphans: Array<{ key: string; why: string }>;
  deleted: number;
  temp_removed: number;
}

async function fileOrphans(store: Store, blobs: BlobStore, minAgeMs: number): Promise<GcReport['orphans']> {
  const out: GcReport['orphans'] = [];
  const keys = await blobs.listKeys('files', minAgeMs);
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const inUse = await store.fileBlobKeysInUse([...new Set(batch.map(fileUidOfBlobKey))]);
    for (const k of batch) if (!inUse.has(k)) out.push({ key: k, why: 'no file version names it' });
  }
  return out;
}

/** Keys under `<root>/<job_uuid>/…` grouped by job. */
function byJob(keys: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const k of keys) {
    const uuid = k.split('/')[1]!;
    m.set(uuid, [...(m.get(uuid) ?? []), k]);
  }
  return m;
}

async function jobOrphans(store: Store, blobs: BlobStore, minAgeMs: number): Promise<GcReport['orphans']> {
  const out: GcReport['orphans'] = [];
  for (const [uuid, keys] of byJob(await blobs.listKeys('checkpoints', minAgeMs))) {
    const job = await store.getJobByUuid(uuid);
    const named = job ? new Set((await store.listCheckpoints(uuid)).map((c) => c.blob_key)) : new Set<string>();
    for (const k of keys) if (!named.has(k)) out.push({ key: k, why: job ? 'no checkpoint of its job names it' : 'its job was deleted' });
  }
  for (const [uuid, keys] of byJob(await blobs.listKeys('outputs', minAgeMs))) {
    const job = await store.getJobByUuid(uuid);
    const named = job ? new Set((await listCommittedOutputs(store, uuid)).map((o) => o.blob_key)) : new Set<string>();
    for (const k of keys) if (!named.has(k)) out.push({ key: k, why: job ? 'never committed as an output of its job' : 'its job was deleted' });
  }
  for (const k of await blobs.listKeys('orgs', minAgeMs)) {
    const m = /^orgs\/([^/]+)\/inference-configs\/(.+)\.yaml$/.exec(k);
    if (!m) continue;
    const job = await store.getJob(m[1]!, m[2]!);
    if (!job || inferenceConfigKey(job) !== k) out.push({ key: k, why: 'its job was deleted' });
  }
  return out;
}

/** Lists (dryRun) or deletes every orphan older than `minAgeMs`. */
export async function collectOrphans(store: Store, blobs: BlobStore, o: { dryRun: boolean; minAgeMs: number }): Promise<GcReport> {
  const orphans = [...(await fileOrphans(store, blobs, o.minAgeMs)), ...(await jobOrphans(store, blobs, o.minAgeMs))];
  if (o.dryRun) return { orphans, deleted: 0, temp_removed: 0 };
  for (const x of orphans) await blobs.delete(x.key);
  return { orphans, deleted: orphans.length, temp_removed: await blobs.sweepTemp(o.minAgeMs) };
}
