/**
 * Shared by the Python trainer tests and bench: where the reference trainer lives, whether Debian's
 * PyTorch is importable (the tests skip with a message when it is not), and a generated Newton SFT
 * dataset whose held-out answers are composed from two fields of the prompt ("the valve2 is worn"):
 * 12 units × 10 states = 120 combinations, 24 of them only in eval, so no eval answer was ever seen
 * verbatim in training and a label-style model scores 0 on them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/lib/prng.js';

export const PYTHON = '/usr/bin/python3';
export const PYTHON_DIR = fileURLToPath(new URL('../../../python/', import.meta.url));
export const LORA_SFT = join(PYTHON_DIR, 'trainers', 'lora_sft.py');

/** null when `import torch` works, else why the torch tests skip. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `skipped: ${PYTHON} -c "import torch" failed (install Debian's python3-torch: apt-get install -y python3-torch libopenblas0-pthread): ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`;
}

const UNITS = ['pump', 'fan', 'valve', 'motor', 'boiler', 'sensor', 'drill', 'press', 'mixer', 'belt', 'lamp', 'crane'];
const STATES = ['leaking', 'stalled', 'overheating', 'idle', 'running', 'offline', 'vibrating', 'noisy', 'clogged', 'worn'];

export interface SftFiles {
  dir: string;
  train: string;
  eval: string;
  evalAnswers: string[];
}

function example(rand: () => number, unit: string, state: string): { line: string; answer: string } {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const name = `${unit}${1 + Math.floor(rand() * 3)}`;
  const contents = `room: ${pick(['north', 'south', 'east', 'west'])}\nunit: ${name}\nstate: ${state}\ntemp: ${10 + Math.floor(rand() * 80)}`;
  const answer = `the ${name} is ${state}`;
  const ex = { lens_parameters: { instruction: 'Report the unit and its state.' }, inputs: [{ type: 'data.text', event_data: { contents } }], outputs: [{ type: 'data.text', event_data: { contents: answer } }] };
  return { line: JSON.stringify(ex), answer };
}

/** `trainCount` train examples over 96 combinations, one eval example per each of the 24 held-out ones. */
export function writeComposedSft(seed = 7, trainCount = 300): SftFiles {
  const rand = mulberry32(seed);
  const combos = UNITS.flatMap((u) => STATES.map((s) => [u, s] as const));
  for (let i = combos.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [combos[i], combos[j]] = [combos[j]!, combos[i]!];
  }
  const held = combos.slice(0, 24);
  const seen = combos.slice(24);
  const dir = mkdtempSync(join(tmpdir(), 'ftnode-pysft-'));
  const train = Array.from({ length: trainCount }, (_, i) => example(rand, ...seen[i % seen.length]!).line);
  const evals = held.map(([u, s]) => example(rand, u, s));
  writeFileSync(join(dir, 'train.jsonl'), `${train.join('\n')}\n`);
  writeFileSync(join(dir, 'eval.jsonl'), `${evals.map((e) => e.line).join('\n')}\n`);
  return { dir, train: join(dir, 'train.jsonl'), eval: join(dir, 'eval.jsonl'), evalAnswers: evals.map((e) => e.answer) };
}

/** The reference trainer's command with small settings (a run is seconds on one CPU thread). */
export function loraCommand(extra: string[] = []): string[] {
  return [PYTHON, LORA_SFT, '--threads', '1', '--base-steps', '120', '--steps', '80', '--evals', '2', ...extra];
}
