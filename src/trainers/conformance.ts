/**
 * Trainer protocol conformance checker: runs any trainer command (built-in or external) on a start
 * spec and reports every way its behaviour departs from protocol.ts: message shapes, ordering,
 * checkpoint files that do not match their reported size and sha256, stop handling and exit codes.
 * Used by the test suite on every built-in trainer and the test fixture; external trainer authors can
 * run it on theirs (`node dist/src/trainers/conformance-cli.js -- <command...>` style wrappers).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { EXIT_INVALID_CONFIG, EXIT_INVALID_DATASET, EXIT_OK, type TrainerMessage, type TrainerSpec } from './protocol.js';

export interface ConformanceRun {
  messages: TrainerMessage[];
  exitCode: number | null;
  violations: string[];
}

export interface ConformanceOptions {
  /** Send `stop` once this predicate matches a message (graceful-stop check). */
  stopWhen?: (m: TrainerMessage) => boolean;
  /** Close stdin once this predicate matches (the worker died): the trainer must exit. */
  closeStdinWhen?: (m: TrainerMessage) => boolean;
  /** SIGKILL the trainer once this predicate matches (its host died): what it reported before must stand, and a resume continues from it. */
  killWhen?: (m: TrainerMessage) => boolean;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const SHAPES: Record<string, (m: Record<string, unknown>) => boolean> = {
  hello: (m) => num(m.protocol) && typeof m.trainer === 'string',
  hyperparameters: (m) => typeof m.values === 'object' && m.values !== null,
  progress: (m) => num(m.step) && num(m.total_steps),
  metrics: (m) => num(m.step) && typeof m.values === 'object' && Object.values(m.values as object).every(num),
  eval_start: (m) => num(m.step),
  eval_end: (m) => num(m.step) && typeof m.metrics === 'object' && Object.values(m.metrics as object).every(num),
  checkpoint: (m) => num(m.step) && typeof m.path === 'string' && typeof m.sha256 === 'string' && num(m.size) && typeof m.metrics === 'object',
  output: (m) => typeof m.filename === 'string' && typeof m.path === 'string' && typeof m.sha256 === 'string' && num(m.size) && typeof m.input_file_id === 'string',
  early_stop: (m) => num(m.step) && typeof m.message === 'string' && (m.epoch === undefined || num(m.epoch)),
  finalizing: () => true,
  log: (m) => typeof m.message === 'string' && ['info', 'warn', 'error'].includes(String(m.level)),
  error: (m) => typeof m.message === 'string' && typeof m.code === 'string',
  done: (m) => ['completed', 'stopped'].includes(String(m.reason)) && num(m.step),
};

export async function runConformance(command: string[], spec: TrainerSpec, o: ConformanceOptions = {}): Promise<ConformanceRun> {
  const child = spawn(command[0]!, command.slice(1), { cwd: spec.work_dir, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.on('error', () => undefined);
  child.stdin.write(`${JSON.stringify({ type: 'start', spec })}\n`);
  const messages: TrainerMessage[] = [];
  const violations: string[] = [];
  const checks: Promise<void>[] = [];
  let stopped = false;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // plain text on stdout is allowed (kept as a log)
    }
    const shape = SHAPES[String(m.type)];
    if (!shape) violations.push(`unknown message type '${String(m.type)}'`);
    else if (!shape(m)) violations.push(`malformed ${String(m.type)} message: ${line.slice(0, 200)}`);
    const msg = m as unknown as TrainerMessage;
    if (messages.some((x) => x.type === 'done')) violations.push(`'${msg.type}' after 'done'`);
    if (msg.type === 'checkpoint') checks.push(verifyCheckpoint(spec.work_dir, msg, violations));
    if (msg.type === 'output') checks.push(verifyFile(spec.work_dir, msg, `output ${msg.filename}`, violations));
    messages.push(msg);
    if (!stopped && o.stopWhen?.(msg)) {
      stopped = true;
      child.stdin.write(`${JSON.stringify({ type: 'stop' })}\n`);
    }
    if (o.closeStdinWhen?.(msg)) child.stdin.end();
    if (o.killWhen?.(msg)) child.kill('SIGKILL');
  });
  const timer = setTimeout(() => {
    violations.push(`did not exit within ${o.timeoutMs ?? 120_000} ms`);
    child.kill('SIGKILL');
  }, o.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await new Promise<void>((r) => (lines.once('close', r), child.stdout.readableEnded && r()));
  clearTimeout(timer);
  await Promise.all(checks);
  judgeExit(messages, exitCode, stopped, violations);
  return { messages, exitCode, violations };
}

function verifyCheckpoint(workDir: string, m: Extract<TrainerMessage, { type: 'checkpoint' }>, violations: string[]): Promise<void> {
  return verifyFile(workDir, m, `checkpoint at step ${m.step}`, violations);
}

/** A reported file (checkpoint or batch output) must exist with exactly the reported size and sha256. */
async function verifyFile(workDir: string, m: { path: string; size: number; sha256: string }, what: string, violations: string[]): Promise<void> {
  const bytes = await readFile(isAbsolute(m.path) ? m.path : join(workDir, m.path)).catch(() => null);
  if (!bytes) return void violations.push(`${what}: file ${m.path} is missing`);
  if (bytes.length !== m.size) violations.push(`${what}: size ${bytes.length} ≠ reported ${m.size}`);
  if (createHash('sha256').update(bytes).digest('hex') !== m.sha256) violations.push(`${what}: sha256 does not match`);
}

function judgeExit(messages: TrainerMessage[], exitCode: number | null, stopped: boolean, violations: string[]): void {
  const done = messages.find((m) => m.type === 'done') as Extract<TrainerMessage, { type: 'done' }> | undefined;
  const error = messages.find((m) => m.type === 'error');
  if (exitCode === EXIT_OK) {
    if (!done) violations.push("exit 0 without a 'done' message");
    if (done && stopped && done.reason !== 'stopped' && done.reason !== 'completed') violations.push('stop requested but done.reason is neither stopped nor completed');
    if (done && !stopped && done.reason === 'stopped') violations.push("done.reason 'stopped' without a stop request");
  } else if (exitCode === EXIT_INVALID_DATASET || exitCode === EXIT_INVALID_CONFIG) {
    if (!error) violations.push(`exit ${exitCode} without an 'error' message saying why`);
  }
  const steps = messages.filter((m) => m.type === 'progress').map((m) => (m as { step: number }).step);
  if (steps.some((s, i) => i > 0 && s < steps[i - 1]!)) violations.push('progress steps went backwards');
  const fin = messages.findIndex((m) => m.type === 'finalizing');
  if (fin >= 0 && messages.slice(fin).some((m) => m.type === 'progress' && (m as { phase?: string }).phase === 'training')) {
    violations.push("training progress after 'finalizing'");
  }
}
