/** Models page: the server's model catalog (GET /v0.5/fine-tune/models), as cards at phone width. */
import type { Model } from '../../../src/client/index.js';
import { cardify, h } from '../dom.js';
import type { PageCtx } from '../page.js';

export async function modelsPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  const { data } = await ctx.client.models();
  const table = modelsTable(data);
  root.append(
    h('h1', { tabindex: -1 }, 'Models'),
    h('p', { class: 'muted' }, 'Stand-in models accept the same requests and datasets as Archetype\'s models but are not their weights.'),
    h('div', { class: 'table-wrap' }, table));
  cardify(table);
}

function modelsTable(data: Model[]): HTMLTableElement {
  return h('table', { id: 'models' },
    h('thead', {}, h('tr', {}, ['Model', 'Kind', 'Trainer', 'Stand-in', 'Create jobs with', 'Description'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, data.map((m) => h('tr', {},
      h('td', {}, h('code', {}, m.id)), h('td', {}, m.kind), h('td', {}, m.trainer), h('td', {}, m.stand_in ? 'yes' : 'no'),
      h('td', {}, h('code', {}, m.api)), h('td', {}, m.description ?? '-')))));
}
