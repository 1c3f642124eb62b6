/**
 * How trainer reports become recorded values: evaluation metrics get the `eval_` prefix (except
 * `macro_f1`, the selection metric, and keys already prefixed), and `epoch` stays a plain field of the
 * entry (it is where the evaluation happened, not a score to plot). Hyperparameter events say which
 * values the request set and which the trainer chose, so no one reads "chosen from the dataset size"
 * about a value they typed.
 */

/** Keys that describe an entry rather than measure the model. */
const FIELDS = new Set(['epoch']);

export function evalValues(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [FIELDS.has(k) || k.startsWith('eval_') || k === 'macro_f1' ? k : `eval_${k}`, v]));
}

/** Hyperparameter names the create request set: v0.6 `method.<type>.hyperparameters`, or a top-level `hyperparameters`. */
export function requestedHyperparameters(config: Record<string, unknown>): string[] {
  const method = config.method as { type?: unknown; [k: string]: unknown } | undefined;
  const type = typeof method?.type === 'string' ? method.type : 'head';
  const block = (method?.[type] as { hyperparameters?: unknown } | undefined)?.hyperparameters ?? config.hyperparameters;
  return block && typeof block === 'object' && !Array.isArray(block) ? Object.keys(block) : [];
}

export function hyperparametersMessage(values: Record<string, unknown>, userSet: string[]): string {
  const set = new Set(userSet);
  const chosen = Object.keys(values).filter((k) => !set.has(k));
  const parts = [
    userSet.length ? `set in the request: ${userSet.map((k) => `${k} ${String(values[k])}`).join(', ')}` : '',
    chosen.length ? `chosen by the trainer (defaults, or from the dataset size): ${chosen.map((k) => `${k} ${String(values[k])}`).join(', ')}` : '',
  ].filter(Boolean);
  return `Hyperparameters — ${parts.join('; ')}`;
}
