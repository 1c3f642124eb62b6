/**
 * The shape of one Newton SFT labeled example (docs/spec.md#dataset-formats) and what the trainer makes of it:
 *   { lens_parameters?: { instruction?: string },
 *     inputs:  [{ type: "data.text", event_data: { contents: string } }, ...],   (non-empty)
 *     outputs: [{ type: "data.text", event_data: { contents: string } }, ...] }  (>= 1 data.text event)
 * Model text = instruction and every input's contents, joined by newlines. Label = the contents of
 * every data.text output, trimmed, joined by a newline (one class per distinct label).
 * Inputs need string contents whatever their `type` (other modalities arrive as text logs too).
 */
import type { FieldPath } from './containers.js';

export interface SftExample {
  text: string;
  /** null when the example has no outputs (allowed for predict only). */
  label: string | null;
}

export interface ExampleProblem {
  path: FieldPath;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function eventContents(ev: unknown): string | undefined {
  if (!isObject(ev) || !isObject(ev.event_data)) return undefined;
  const c = ev.event_data.contents;
  return typeof c === 'string' ? c : undefined;
}

/** Checks one example; returns every problem found (paths for the line lookup), or the example. */
export function checkExample(value: unknown, requireOutputs: boolean): { example?: SftExample; problems: ExampleProblem[] } {
  const problems: ExampleProblem[] = [];
  if (!isObject(value)) return { problems: [{ path: [], message: 'an example must be an object with `inputs` and `outputs`' }] };

  let instruction: string | undefined;
  const lens = value.lens_parameters;
  if (lens !== undefined && lens !== null) {
    if (!isObject(lens)) problems.push({ path: ['lens_parameters'], message: '`lens_parameters` must be an object' });
    else if (lens.instruction !== undefined && lens.instruction !== null) {
      if (typeof lens.instruction !== 'string') {
        problems.push({ path: ['lens_parameters', 'instruction'], message: '`lens_parameters.instruction` must be a string' });
      } else instruction = lens.instruction;
    }
  }

  const texts: string[] = instruction ? [instruction] : [];
  const inputs = value.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    problems.push({ path: ['inputs'], message: '`inputs` must be a non-empty list of events' });
  } else {
    inputs.forEach((ev, i) => {
      const c = eventContents(ev);
      if (c === undefined) {
        problems.push({ path: ['inputs', i, 'event_data', 'contents'], message: `\`inputs[${i}].event_data.contents\` must be a string` });
      } else texts.push(c);
    });
  }

  let label: string | null = null;
  const outputs = value.outputs;
  if (outputs === undefined && !requireOutputs) {
    // predict input: no label needed
  } else if (!Array.isArray(outputs)) {
    problems.push({ path: ['outputs'], message: '`outputs` must be a list holding at least one data.text event' });
  } else {
    const labels = outputs
      .filter((ev) => isObject(ev) && ev.type === 'data.text')
      .map(eventContents)
      .filter((c): c is string => c !== undefined);
    if (labels.length === 0) {
      problems.push({
        path: ['outputs'],
        message: '`outputs` must hold at least one event with `type: "data.text"` and string `event_data.contents`',
      });
    } else label = labels.map((l) => l.trim()).join('\n');
  }

  if (problems.length > 0) return { problems };
  return { example: { text: texts.join('\n'), label }, problems };
}
