/**
 * The dashboard shell: hash routes (#/jobs, #/jobs/<id>, #/files, #/models), the sign-in screen, the
 * navigation, and page lifetimes: each page gets an AbortSignal that is aborted when the user leaves
 * it, which ends its polling and its event stream. A 401 from any page returns to sign-in.
 */
import { alertBox, h, replace } from './dom.js';
import { filesPage } from './pages/files.js';
import { jobPage } from './pages/job.js';
import { jobsPage } from './pages/jobs.js';
import { modelsPage } from './pages/models.js';
import { apiKey, client, isUnauthorized, signIn, signOut } from './session.js';
import type { PageCtx } from './page.js';

type Page = (root: HTMLElement, ctx: PageCtx, ...params: string[]) => Promise<void> | void;

const ROUTES: Array<[RegExp, Page, string]> = [
  [/^#\/jobs\/([^/]+)$/, jobPage, 'jobs'],
  [/^#\/jobs$/, jobsPage, 'jobs'],
  [/^#\/files$/, filesPage, 'files'],
  [/^#\/models$/, modelsPage, 'models'],
];

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let current: AbortController | null = null;

function signInPage(message?: string): void {
  nav.hidden = true;
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'current-password', required: true, placeholder: 'sk_…', spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'polite' }, message ? h('p', { class: 'alert', role: 'alert' }, message) : null);
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to ftnode'),
    h('p', { class: 'muted' }, 'Paste an API key of your organization. It is kept in this browser only (localStorage).'),
    h('label', { for: 'api-key' }, 'API key'), input,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'), status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(status, h('p', { class: 'muted' }, 'Checking the key…'));
    signIn(input.value).then(
      () => {
        location.hash = '#/jobs';
        void render();
      },
      (err: unknown) => replace(status, alertBox(err)),
    );
  });
  replace(main, form);
  input.focus();
}

async function render(): Promise<void> {
  current?.abort();
  current = new AbortController();
  if (!apiKey()) return signInPage();
  nav.hidden = false;
  const hash = location.hash || '#/jobs';
  const match = ROUTES.map(([re, page, section]) => ({ m: re.exec(hash), page, section })).find((r) => r.m);
  if (!match) {
    location.hash = '#/jobs';
    return;
  }
  for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.section === match.section);
  const root = h('div', { class: 'page' });
  replace(main, root);
  const signal = current.signal;
  const ctx: PageCtx = { client: client(), signal, onError: (err) => onError(err, root, signal) };
  try {
    await match.page(root, ctx, ...match.m!.slice(1).map(decodeURIComponent));
  } catch (err) {
    ctx.onError(err);
  }
  if (!signal.aborted) (root.querySelector('h1') as HTMLElement | null)?.focus({ preventScroll: true });
}

function onError(err: unknown, root: HTMLElement, signal: AbortSignal): void {
  if (signal.aborted || (err as Error)?.name === 'AbortError') return;
  if (isUnauthorized(err)) {
    signOut();
    current?.abort();
    return signInPage('The API key was refused (401). Sign in again.');
  }
  root.querySelector(':scope > .alert')?.remove(); // one error at a time (polling repeats them)
  root.prepend(alertBox(err));
}

document.getElementById('sign-out')!.addEventListener('click', () => {
  signOut();
  current?.abort();
  signInPage();
});
window.addEventListener('hashchange', () => void render());
void render();
