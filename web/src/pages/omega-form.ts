/**
 * "New time-series (omega) job": the v0.6 create body (POST /v0.6/fine_tuning/jobs) built from the
 * organization's uploaded files. Each file gets a role (training, validation, or not used) and its
 * class (one class per file, the `label`); the method is `head` (a trained layer, checkpoint on every
 * macro-F1 gain) or `knn` (stored embeddings, one checkpoint). Window size, step and, for head,
 * epochs are optional: left empty, the trainer's defaults and its dataset-size rule apply.
 */
import type { CreateJobV06, FileMetadata } from '../../../src/client/index.js';
import { alertBox, cardify, h, replace } from '../dom.js';
import type { PageCtx } from '../page.js';

/** `normal-val.csv` → `normal`: a starting guess the user sees and can change. */
function guessClass(fileId: string): string {
  return fileId.replace(/\.[^.]+$/, '').split(/[-_.\s]/)[0] ?? '';
}

function optionalInt(input: HTMLInputElement): number | undefined {
  return input.value.trim() === '' ? undefined : Number(input.value);
}

export function omegaJobForm(ctx: PageCtx, files: FileMetadata[]): HTMLElement {
  const csv = files.filter((f) => /\.csv$/i.test(f.file_id) || f.file_type === 'text/csv');
  const name = h('input', { id: 'omega-name', name: 'name', placeholder: 'line-3-anomalies', maxlength: 4096 });
  const method = h('select', { id: 'omega-method', name: 'method' },
    h('option', { value: 'head' }, 'head: train a classification layer (checkpoint on every macro-F1 gain)'),
    h('option', { value: 'knn' }, 'knn: nearest neighbours on stored embeddings (one checkpoint)'));
  const windowSize = h('input', { id: 'omega-window', type: 'number', min: 16, max: 1024, placeholder: '128' });
  const stepSize = h('input', { id: 'omega-step', type: 'number', min: 1, placeholder: '4' });
  const epochs = h('input', { id: 'omega-epochs', type: 'number', min: 1, placeholder: 'from the dataset size' });
  const rows = csv.map((f, i) => {
    const role = h('select', { id: `omega-role-${i}`, 'aria-label': `Use of ${f.file_id}` },
      h('option', { value: '' }, 'not used'), h('option', { value: 'train' }, 'training'), h('option', { value: 'val' }, 'validation'));
    const label = h('input', { id: `omega-class-${i}`, 'aria-label': `Class of ${f.file_id}`, value: guessClass(f.file_id), placeholder: 'class' });
    return { f, role, label, tr: h('tr', { 'data-file': f.file_id }, h('td', {}, h('code', {}, f.file_id)), h('td', {}, role), h('td', {}, label)) };
  });
  const table = h('table', { id: 'omega-files' },
    h('thead', {}, h('tr', {}, ['File', 'Use as', 'Class'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => r.tr) : h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No CSV files yet: upload one CSV per class (training and validation) on the Files page.'))));
  cardify(table);
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'grid-form' },
    h('label', { for: 'omega-name' }, 'Name'), name,
    h('label', { for: 'omega-method' }, 'Method'), method,
    h('label', { for: 'omega-window' }, 'Window size (rows)'), windowSize,
    h('label', { for: 'omega-step' }, 'Step (rows)'), stepSize,
    h('label', { for: 'omega-epochs' }, 'Epochs (head)'), epochs,
    h('div', { class: 'span table-wrap' }, table),
    h('p', { class: 'muted span' }, 'One class per file. At least two classes for training; every validation class must also be a training class. The run keeps the checkpoint with the best validation macro-F1.'),
    h('div', { class: 'span' }, h('button', { type: 'submit', class: 'primary' }, 'Create omega job')), status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const pick = (role: string): Array<{ file_id: string; label: string }> => rows.filter((r) => r.role.value === role).map((r) => ({ file_id: r.f.file_id, label: r.label.value.trim() }));
    const type = method.value as 'head' | 'knn';
    const reader: Record<string, number> = {};
    if (optionalInt(windowSize) !== undefined) reader.window_size = optionalInt(windowSize)!;
    if (optionalInt(stepSize) !== undefined) reader.step_size = optionalInt(stepSize)!;
    const hp: Record<string, number> = {};
    if (type === 'head' && optionalInt(epochs) !== undefined) hp.n_epochs = optionalInt(epochs)!;
    const body = {
      model: 'omega', ...(name.value.trim() ? { name: name.value.trim() } : {}),
      method: { type, [type]: { ...(Object.keys(hp).length ? { hyperparameters: hp } : {}), ...(Object.keys(reader).length ? { reader } : {}) } },
      training_files: pick('train'), validation_files: pick('val'),
    } as unknown as CreateJobV06;
    replace(status, h('p', { class: 'muted' }, 'Creating…'));
    ctx.client.createJobV06(body).then(
      (job) => void (location.hash = `#/jobs/${encodeURIComponent(job.id)}`),
      (err: unknown) => replace(status, alertBox(err)),
    );
  });
  return h('details', { class: 'card', id: 'new-omega-job' }, h('summary', {}, 'New time-series (omega) job'), form);
}
