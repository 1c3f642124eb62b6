/**
 * Files page: upload (one progress bar per file with bytes/s, through XMLHttpRequest because fetch
 * reports no upload progress), the organization's files with Delete (confirmed; "Keep the file" is the
 * harmless choice), drawn as cards at phone width, or — on a server
 * without the file listing route — the files uploaded from this page plus a look-up by file id.
 */
import { uploadWithProgress, type FileMetadata } from '../../../src/client/index.js';
import { alertBox, cardify, confirmDialog, fmtBytes, h, replace } from '../dom.js';
import type { PageCtx } from '../page.js';

const uploadedHere: FileMetadata[] = [];

function progressRow(name: string): { el: HTMLElement; update(sent: number, total: number): void; done(text: string): void } {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `Upload of ${name}` });
  const text = h('span', { class: 'muted' }, 'starting…');
  const started = performance.now();
  return {
    el: h('li', { class: 'upload' }, h('code', {}, name), ' ', bar, ' ', text),
    update(sent, total) {
      bar.max = total || 1;
      bar.value = sent;
      const secs = (performance.now() - started) / 1000;
      text.textContent = `${fmtBytes(sent)} / ${fmtBytes(total)}${secs > 0 ? ` · ${fmtBytes(Math.round(sent / secs))}/s` : ''}`;
    },
    done(t) {
      bar.value = bar.max;
      text.textContent = t;
    },
  };
}

export async function filesPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  const { client } = ctx;
  const input = h('input', { id: 'file-input', type: 'file', multiple: true, required: true });
  const progress = h('ul', { class: 'uploads', 'aria-live': 'polite' });
  const listSlot = h('div', { id: 'file-list' });
  const form = h('form', { class: 'card upload-form', 'aria-labelledby': 'up-h' },
    h('h2', { id: 'up-h' }, 'Upload'),
    h('p', { class: 'muted' }, 'The file id is the file name; uploading a name that exists replaces it (jobs keep the version they started with). JSONL datasets are sent as text/plain.'),
    h('label', { for: 'file-input' }, 'Files'), input, h('button', { type: 'submit', class: 'primary' }, 'Upload'), progress);
  root.append(h('h1', { tabindex: -1 }, 'Files'), form, h('section', { 'aria-labelledby': 'fl-h' }, h('h2', { id: 'fl-h' }, 'Files'), listSlot));

  const [canList, canDelete] = await Promise.all([client.supports('listFiles'), client.supports('deleteFile')]).catch(() => [false, false]);

  const remove = async (f: FileMetadata): Promise<void> => {
    const ok = await confirmDialog({ title: `Delete ${f.file_id}?`, body: 'The file leaves the listing. Jobs that already use it keep their copy until they end.', confirm: 'Delete', cancel: 'Keep the file', danger: true });
    if (!ok) return;
    try {
      await client.deleteFile(f.file_id);
      const i = uploadedHere.findIndex((x) => x.file_id === f.file_id);
      if (i >= 0) uploadedHere.splice(i, 1);
      await renderList();
    } catch (err) {
      ctx.onError(err);
    }
  };

  const renderList = async (): Promise<void> => {
    const files = canList ? await client.listFiles() : uploadedHere;
    const rows = files.map((f) => h('tr', { 'data-file': f.file_id },
      h('td', {}, h('code', {}, f.file_id)), h('td', { class: 'num' }, fmtBytes(f.num_bytes)), h('td', {}, f.file_type), h('td', {}, h('code', {}, f.file_uid)),
      h('td', {}, canDelete ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${f.file_id}`, onclick: () => void remove(f) }, 'Delete') : null)));
    const table = h('table', { id: 'files' },
      h('thead', {}, h('tr', {}, ['File id', 'Size', 'Type', 'File uid', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, (rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No files yet: upload one above. A file id is the file name.'))])));
    replace(listSlot,
      canList ? null : h('p', { class: 'muted' }, 'This server does not list files (GET /v0.5/files/metadata); the files uploaded from this page are shown.'),
      h('div', { class: 'table-wrap' }, table));
    cardify(table);
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = [...(input.files ?? [])];
    void (async () => {
      for (const file of chosen) {
        const row = progressRow(file.name);
        progress.append(row.el);
        try {
          const ref = await uploadWithProgress(client, file, file.name, row.update, ctx.signal);
          row.done(`uploaded · ${fmtBytes(file.size)} · ${ref.file_uid}`);
          const meta = await client.fileMetadata(ref.file_id);
          const i = uploadedHere.findIndex((x) => x.file_id === meta.file_id);
          if (i >= 0) uploadedHere.splice(i, 1);
          uploadedHere.unshift(meta);
        } catch (err) {
          row.el.append(alertBox(err));
        }
      }
      input.value = '';
      await renderList();
    })().catch(ctx.onError);
  });
  await renderList();
}
