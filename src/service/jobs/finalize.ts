/**
 * Finalization (docs/spec.md#outputs): the inference config YAML written from the most recent committed
 * checkpoint, then the terminal status and `inference_config_path` set in ONE guarded write. Used by
 * workers (COMPLETED / STOPPED) and by the control plane (STOPPING whose worker vanished or ran past
 * the stop grace budget).
 */
import { stringify } from 'yaml';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { Catalog } from '../../domain/catalog.js';
import type { Checkpoint, Job } from '../../domain/types.js';
import { isoMicros } from '../../domain/time.js';
import type { Clock } from '../../lib/clock.js';
import type { Store } from '../../store/store.js';

export function inferenceConfigKey(job: Job): string {
  return `orgs/${job.org_uuid}/inference-configs/${job.id}.yaml`;
}

export class Finalizer {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** Writes the YAML for `job` from its latest committed checkpoint; returns its URI, or null when there is none. */
  async writeInferenceConfig(job: Job): Promise<string | null> {
    const ckpt = await this.store.latestCheckpoint(job.uuid);
    if (!ckpt) return null;
    const key = inferenceConfigKey(job);
    await this.blobs.writeBuffer(key, this.render(job, ckpt));
    return this.blobs.uri(key);
  }

  render(job: Job, ckpt: Checkpoint): string {
    const entry = this.catalog[job.model];
    const doc = {
      job_id: job.id,
      job_uuid: job.uuid,
      org_uuid: job.org_uuid,
      model: job.model,
      trainer: entry?.trainer ?? 'unknown',
      stand_in: entry?.stand_in ?? false,
      checkpoint: {
        id: ckpt.id,
        name: ckpt.name,
        step: ckpt.step,
        uri: this.blobs.uri(ckpt.blob_key),
        sha256: ckpt.sha256,
        num_bytes: ckpt.num_bytes,
        created_at: isoMicros(ckpt.created_at),
      },
      ...ckpt.meta, // labels, reader/window settings, format: as the trainer reported them
      metrics: ckpt.metrics,
      hyperparameters: job.hyperparameters ?? {},
      created_at: isoMicros(this.clock.now()),
    };
    return stringify(doc);
  }
}
