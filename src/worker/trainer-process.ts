/**
 * One trainer child process: spawned in its own process group (so a kill reaches anything it
 * started, e.g. a Python script's data-loader workers), fed the start spec on stdin, read line by
 * line on stdout. Messages are handed to the caller strictly in order, one at a time, so a checkpoint
 * commit finishes before the `done` that follows it is handled. Its peak memory (VmHWM, Linux) is
 * sampled every second, so a trainer that a signal we did not send ends (the kernel's OOM killer) can
 * be reported with how much memory it had reached.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { isTrainerMessage, type TrainerMessage, type TrainerSpec, type WorkerToTrainer } from '../trainers/protocol.js';

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean; // by us (cancel, lost lease, grace budget)
  stderrTail: string;
  /** Highest resident set size sampled (bytes), null where /proc is not available. */
  peakRssBytes: number | null;
}

/** One sample a second: a trainer's memory grows over seconds (loading data), not milliseconds. */
const MEMORY_SAMPLE_MS = 1000;

const STDERR_TAIL_BYTES = 4096;

export class TrainerProcess {
  private readonly child: ChildProcess;
  private queue: Promise<void> = Promise.resolve();
  private stderrTail = '';
  private killedByUs = false;
  private peakRss: number | null = null;
  readonly exited: Promise<TrainerExit>;

  constructor(command: string[], spec: TrainerSpec, env: Record<string, string | undefined>, onMessage: (m: TrainerMessage) => Promise<void>, onStderr: (line: string) => void) {
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: spec.work_dir,
      env: { ...env, FTNODE_TRAINER_PROTOCOL: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: kill(-pid) reaches grandchildren too
    });
    this.child.stdin!.on('error', () => undefined); // EPIPE after the trainer exits is expected
    const out = createInterface({ input: this.child.stdout! });
    out.on('line', (line) => {
      const msg = parse(line);
      this.queue = this.queue.then(() => onMessage(msg)).catch(() => undefined);
    });
    const err = createInterface({ input: this.child.stderr! });
    err.on('line', (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-STDERR_TAIL_BYTES);
      onStderr(line);
    });
    const outClosed = new Promise<void>((r) => out.once('close', r));
    const sampler = setInterval(() => void this.sampleMemory(), MEMORY_SAMPLE_MS).unref();
    void this.sampleMemory();
    this.exited = new Promise<TrainerExit>((resolve) => {
      const report = (code: number | null, signal: NodeJS.Signals | null): TrainerExit => ({ code, signal, killed: this.killedByUs, stderrTail: this.stderrTail, peakRssBytes: this.peakRss });
      this.child.once('error', (e) => {
        clearInterval(sampler);
        this.stderrTail += `spawn failed: ${e.message}\n`;
        resolve(report(null, null));
      });
      this.child.once('exit', (code, signal) => {
        clearInterval(sampler);
        // Let stdout drain and every queued message be handled before reporting the exit.
        void outClosed.then(() => this.queue).then(() => resolve(report(code, signal)));
      });
    });
    this.send({ type: 'start', spec });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** VmHWM of the trainer process (its own peak; children it started are not counted). */
  private async sampleMemory(): Promise<void> {
    const pid = this.child.pid;
    if (!pid || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      if (m) this.peakRss = Math.max(this.peakRss ?? 0, Number(m[1]) * 1024);
    } catch {
      // gone already, or no /proc (macOS): peak unknown
    }
  }

  send(msg: WorkerToTrainer): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  /** SIGKILL to the whole process group; nothing the trainer writes afterwards is accepted (fencing). */
  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killedByUs = true;
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }
}

function parse(line: string): TrainerMessage {
  try {
    const v: unknown = JSON.parse(line);
    if (isTrainerMessage(v)) return v;
  } catch {
    // not JSON: a plain log line
  }
  return { type: 'log', level: 'info', message: line.slice(0, 2000) };
}
