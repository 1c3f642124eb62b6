/**
 * The one mapping from a job's dataset snapshot (file ids + the `file_uid` of each version) to the
 * local files a trainer reads: used at create (JobCreator and BatchCreator validate the contents)
 * and at claim (AttemptsService hands the paths to the in-process worker). Order is kept: file j of
 * dataset i is file j of dataset i of the snapshot (the worker API maps refs back by position).
 * `localPaths` false (a remote worker's claim): paths stay '' and nothing is fetched to this host;
 * the worker downloads each file by its ref instead.
 */
import type { DatasetInput, DatasetProblem } from '../domain/dataset.js';
import type { ErrorDetail } from '../domain/errors.js';
import type { DatasetSnapshot } from '../domain/types.js';
import type { ServiceCore } from './deps.js';
import { describeProblem } from './trainer-hooks.js';

export type LocalDatasets = DatasetInput['datasets'];

export async function datasetPaths(d: Pick<ServiceCore, 'store' | 'blobs'>, org_uuid: string, snapshot: DatasetSnapshot[], localPaths = true): Promise<LocalDatasets> {
  const out: LocalDatasets = [];
  for (const ds of snapshot) {
    const files = [];
    for (const f of ds.files) {
      const rec = await d.store.getFileByUid(org_uuid, f.file_uid);
      if (!rec) throw new Error(`file version ${f.file_uid} (${f.file_id}) of a stored snapshot is missing`); // versions in use are never purged
      files.push({ file_id: f.file_id, path: localPaths ? await d.blobs.localPath(rec.blob_key) : '', ...(f.label !== undefined ? { label: f.label } : {}) });
    }
    out.push({ name: ds.name, split: ds.split, files });
  }
  return out;
}

/**
 * A trainer's validation problems as request errors: a parenthesised pseudo file id such as
 * '(config)' is a bad request field (`invalid_parameter`), anything else bad data (`invalid_dataset`).
 */
export function problemDetails(problems: DatasetProblem[]): ErrorDetail[] {
  return problems.map((p) => (p.file_id.startsWith('(')
    ? { code: 'invalid_parameter', message: `${p.column ? `'${p.column}' ` : ''}${p.message}` }
    : { code: 'invalid_dataset', message: describeProblem(p) }));
}
