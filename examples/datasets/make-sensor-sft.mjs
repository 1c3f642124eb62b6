#!/usr/bin/env node
/**
 * Generates the example Newton-SFT dataset for the built-in text-sft trainer, deterministically
 * (seeded PRNG, no Date.now): sensor-sft-train.jsonl (600 examples) and sensor-sft-eval.jsonl (150).
 *
 * Each example's input is a YAML-style log of two sensors of one room (a presence sensor; a pump
 * reporting temperature and vibration), two readings each, and its output is one label, chosen by
 * this rule, in order:
 *   any temperature_c >= 40.0        -> "overheating"
 *   any vibration_mm_s >= 7.0        -> "vibration_fault"
 *   any presence_state == "active"   -> "occupied"
 *   otherwise                        -> "empty"
 * Normal readings sit close to the thresholds on purpose (temperature up to 39.x, vibration up to
 * 6.x) and 6% of the labels are replaced with a random other label, so ~94% is the best a model can
 * reach and 100% is impossible. The format is kept compact (~630 bytes an example) so that both
 * files together stay under 500 KB. Usage: node examples/datasets/make-sensor-sft.mjs
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LABELS = ['overheating', 'vibration_fault', 'occupied', 'empty'];
// Scenario mix: empty and occupied are the common cases (majority class ~35%).
const SCENARIO_WEIGHTS = [0.18, 0.17, 0.35, 0.3];
const LABEL_NOISE = 0.06;
const INSTRUCTION = 'Classify this facility sensor log as overheating, vibration_fault, occupied or empty.';
const ROOMS = ['Entrance', 'Storage', 'Kitchen', 'Lab-1', 'Lab-2', 'Server-Room', 'Workshop', 'Lobby'];

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(20250818);
const uniform = (lo, hi) => lo + (hi - lo) * rand();
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
function weighted(weights) {
  let r = rand();
  for (let i = 0; i < weights.length; i++) if ((r -= weights[i]) < 0) return i;
  return weights.length - 1;
}

function timestamps(day, hour) {
  const m = Math.floor(uniform(0, 50));
  const pad = (x) => String(x).padStart(2, '0');
  return [0, 5].map((d) => `2025-08-${pad(day)}T${pad(hour)}:${pad(m + d)}`);
}

/** Readings consistent with the scenario; the overriding faults may co-occur with anything below them. */
function readings(scenario) {
  const presence = [rand() < 0.5 ? 'active' : 'inactive', rand() < 0.5 ? 'active' : 'inactive'];
  if (scenario === 'occupied' && !presence.includes('active')) presence[Math.floor(rand() * 2)] = 'active';
  if (scenario === 'empty') presence.fill('inactive');
  const temp = [uniform(17, 39.9), uniform(17, 39.9)];
  if (scenario === 'overheating') temp[Math.floor(rand() * 2)] = uniform(40, 62);
  const vib = [uniform(0.2, 6.9), uniform(0.2, 6.9)];
  if (scenario === 'vibration_fault') vib[Math.floor(rand() * 2)] = uniform(7, 15);
  // Faults above the scenario in the rule order would change the label: only lower ones may co-occur.
  if (scenario === 'overheating' && rand() < 0.3) vib[0] = uniform(7, 15);
  return { presence, temp: temp.map((t) => t.toFixed(1)), vib: vib.map((v) => v.toFixed(1)) };
}

function ruleLabel(r) {
  if (r.temp.some((t) => Number(t) >= 40)) return 'overheating';
  if (r.vib.some((v) => Number(v) >= 7)) return 'vibration_fault';
  if (r.presence.includes('active')) return 'occupied';
  return 'empty';
}

function logText(r) {
  const ts = timestamps(1 + Math.floor(rand() * 28), Math.floor(uniform(6, 22)));
  const room = pick(ROOMS);
  return [
    `- sensor_name: ${room}-presence`,
    '  log:',
    ...ts.map((t, i) => `    - {presence_state: "${r.presence[i]}", timestamp: "${t}"}`),
    `- sensor_name: ${room}-pump`,
    '  log:',
    ...ts.map((t, i) => `    - {temperature_c: ${r.temp[i]}, vibration_mm_s: ${r.vib[i]}, timestamp: "${t}"}`),
    '',
  ].join('\n');
}

function example() {
  const r = readings(LABELS[weighted(SCENARIO_WEIGHTS)]);
  let label = ruleLabel(r);
  if (rand() < LABEL_NOISE) label = pick(LABELS.filter((l) => l !== label));
  return {
    lens_parameters: { instruction: INSTRUCTION },
    inputs: [{ type: 'data.text', event_data: { contents: logText(r) } }],
    outputs: [{ type: 'data.text', event_data: { contents: label } }],
  };
}

const here = dirname(fileURLToPath(import.meta.url));
for (const [name, count] of [['sensor-sft-train.jsonl', 600], ['sensor-sft-eval.jsonl', 150]]) {
  const lines = Array.from({ length: count }, () => JSON.stringify(example()));
  writeFileSync(join(here, name), `${lines.join('\n')}\n`);
  console.log(`wrote ${name}: ${count} examples`);
}
