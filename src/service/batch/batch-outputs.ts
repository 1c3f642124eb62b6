/**
 * Batch outputs as records (docs/batch.md): a committed output is a blob at
 * `outputs/<job uuid>/<out id>/<filename>` (a new folder per upload, so no upload — a zombie's, a
 * retried one — ever writes over a committed object) plus an `output_committed` event, appended
 * under the attempt's fence, carrying its name, key, size, sha256 and input. The events are the
 * listing; the blob store is never enumerated. Outputs committed before keys had an id folder live
 * at `outputs/<job uuid>/<filename>` (their events carry no key).
 * Invariant: an output whose event comes after the job's terminal event (a cancel that raced the
 * commit: the fence was checked, then the cancel landed, then the event) is never listed or served,
 * so "outputs committed before a cancel stay, nothing after" holds exactly. Event order is the
 * store's per-job `seq`, assigned in the same transaction as the status change of a cancel.
 */
import type { JobEvent } from '../../domain/types.js';
import { typeId } from '../../lib/ids.js';
import type { Store } from '../../store/store.js';

export const OUTPUT_EVENT = 'output_committed';

/** Events written in the same transaction as a move to a terminal status (jobs-service, attempts-service, store reaper, recovery). */
const TERMINAL_EVENTS = new Set(['cancelled', 'job_failed', 'job_completed', 'job_stopped']);

export { OUTPUT_NAME } from '../../domain/work.js';

/** Where an output recorded without a key lives (the layout before per-upload folders). */
export function legacyOutputKey(job_uuid: string, filename: string): string {
  return `outputs/${job_uuid}/${filename}`;
}

/** A fresh key for one output upload: never the key of anything committed. */
export function newOutputKey(job_uuid: string, filename: string): string {
  return `outputs/${job_uuid}/${typeId('out')}/${filename}`;
}

export interface CommittedOutput {
  filename: string;
  num_bytes: number;
  sha256: string;
  input_file_id: string;
  created_at: number;
  blob_key: string;
  /** The attempt that committed it (absent on records older than this field). */
  attempt_id: string | null;
}

/** The listed outputs of a job from its events (oldest first): commit order, last commit of a name wins. */
export function committedOutputs(events: JobEvent[]): CommittedOutput[] {
  const byName = new Map<string, CommittedOutput>();
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (TERMINAL_EVENTS.has(e.type)) break;
    if (e.type !== OUTPUT_EVENT || !e.data) continue;
    const d = e.data as Record<string, unknown>;
    const filename = String(d.filename);
    byName.delete(filename); // a resumed attempt that re-commits a name moves it to its new place
    byName.set(filename, {
      filename, num_bytes: Number(d.num_bytes), sha256: String(d.sha256), input_file_id: String(d.input_file_id), created_at: e.created_at,
      blob_key: typeof d.blob_key === 'string' ? d.blob_key : legacyOutputKey(e.job_uuid, filename),
      attempt_id: typeof d.attempt_id === 'string' ? d.attempt_id : null,
    });
  }
  return [...byName.values()];
}

export async function listCommittedOutputs(store: Store, job_uuid: string): Promise<CommittedOutput[]> {
  return committedOutputs(await store.listEvents(job_uuid, { limit: -1 }));
}
