/**
 * What a claimed batch job needs besides its datasets (docs/batch.md), resolved at claim time so
 * that the stored config never holds a local path: the attached checkpoint's file (found again by
 * the id recorded at create) and the outputs earlier attempts committed (a resumed attempt after a
 * lost worker skips those inputs instead of classifying them again).
 */
import type { BlobStore } from '../../blobs/blob-store.js';
import type { Job } from '../../domain/types.js';
import type { WorkResources } from '../../domain/work.js';
import type { Store } from '../../store/store.js';
import type { CheckpointRef } from './batch-create.js';
import { listCommittedOutputs } from './batch-outputs.js';

/** The resources, or why the job cannot run (its checkpoint was deleted since create). */
export async function batchResources(store: Store, blobs: BlobStore, job: Job, localPaths = true): Promise<WorkResources | { missing: string }> {
  const out: WorkResources = {};
  const ref = job.config.checkpoint as CheckpointRef | null | undefined;
  if (ref) {
    const c = await store.getCheckpoint(ref.job_uuid, ref.checkpoint_id);
    if (!c) return { missing: `checkpoint ${ref.checkpoint_id} of job ${ref.job_id} no longer exists (was the fine-tune job deleted?)` };
    out.checkpoint = { checkpoint_id: c.id, path: localPaths ? await blobs.localPath(c.blob_key) : '', sha256: c.sha256 };
  }
  out.committed_outputs = (await listCommittedOutputs(store, job.uuid)).map((o) => ({ filename: o.filename, input_file_id: o.input_file_id }));
  return out;
}
