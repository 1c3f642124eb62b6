/**
 * Renders the transition table as the Markdown that docs/lifecycle.md embeds; a test compares the
 * two, so the documentation can never drift from the code.
 */
import { TRANSITIONS, type JobAction, type JobStatus } from './status.js';

const ROWS: JobStatus[] = ['REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'STOPPING', 'COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];
const COLUMNS: Array<{ title: string; actions: JobAction[] }> = [
  { title: 'worker progress', actions: ['claim', 'start_training', 'finalize', 'complete', 'finish_stop'] },
  { title: 'PUT stop', actions: ['stop'] },
  { title: 'PUT cancel', actions: ['cancel'] },
  { title: 'attempt lost (lease expired)', actions: ['lost_retry', 'lost_stopping'] },
  { title: 'failure', actions: ['fail'] },
];

function cell(from: JobStatus, actions: JobAction[]): string {
  const parts: string[] = [];
  for (const a of actions) {
    const o = TRANSITIONS[a][from];
    if (!o) continue;
    parts.push(o.kind === 'move' ? `→ ${o.to}` : o.kind === 'noop' ? '200, unchanged' : '409 invalid_state_transition');
  }
  return parts.length ? parts.join(' / ') : '–';
}

export function renderTransitionTable(): string {
  const head = `| from | ${COLUMNS.map((c) => c.title).join(' | ')} |`;
  const sep = `|---|${COLUMNS.map(() => '---').join('|')}|`;
  const rows = ROWS.map((s) => `| ${s} | ${COLUMNS.map((c) => cell(s, c.actions)).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}
