/**
 * The Python side of the trainer protocol, run as the worker runs it (src/worker/trainer-process.ts:
 * own process group, start spec on stdin, every stdout line parsed and handed over in order):
 *   1. training tokens/s of the reference trainer python/trainers/lora_sft.py on the generated
 *      composed-answer SFT dataset (test/helpers/python-sft.ts), per model size and thread count, as
 *      the trainer reports it (`train_tokens_per_second`: the steps only, evaluations excluded).
 *      Baseline, same run: the same model, batches and optimizer in a bare loop of the same Python
 *      (no SDK, no messages), so the ratio is what the protocol costs a training step;
 *   2. protocol overhead: messages/s the worker's reader sustains from a trainer that only sends
 *      `progress` through the SDK (Session.progress: json.dumps + write + flush under a lock), against
 *      a trainer that only prints the same lines (print(..., flush=True)), both through TrainerProcess.
 * CPU only unless `--device cuda` (the same script, when torch.cuda.is_available()).
 *   node dist/bench/python-trainer.js [--messages 200000] [--steps 150] [--threads 1] [--device auto] [--json FILE]
 * `--threads 1,2` adds two-thread runs (on a loaded 2-core machine they took > 5 min: OpenMP threads spin).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainerMessage, TrainerSpec } from '../src/trainers/protocol.js';
import { TrainerProcess } from '../src/worker/trainer-process.js';
import { LORA_SFT, PYTHON, PYTHON_DIR, torchMissing, writeComposedSft, type SftFiles } from '../test/helpers/python-sft.js';
import { parseArgs } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { table } from './lib/stats.js';

const opts = parseArgs({ messages: 200_000, steps: 150, threads: '1', device: 'auto', json: '' });
const SIZES = [
  { name: 'd64 L2 (tests)', args: ['--d-model', '64', '--layers', '2', '--heads', '4'] },
  { name: 'd128 L4', args: ['--d-model', '128', '--layers', '4', '--heads', '4'] },
];

const temps: string[] = [];
function spec(files: SftFiles | null): TrainerSpec {
  const work_dir = mkdtempSync(join(tmpdir(), 'ftnode-bench-py-'));
  temps.push(work_dir);
  const datasets: TrainerSpec['datasets'] = files
    ? [{ name: 'train', split: 'train', files: [{ file_id: 'train.jsonl', path: files.train }] }, { name: 'eval', split: 'eval', files: [{ file_id: 'eval.jsonl', path: files.eval }] }]
    : [];
  return { protocol: 1, job_id: 'bench-py', attempt: 1, model: 'lora-sft', trainer: 'external', config: {}, datasets, work_dir, resume: null, seed: 1 };
}

/** Runs a command as the worker does; returns its messages, how many and the time from the first to the last. */
async function viaWorker(command: string[], s: TrainerSpec): Promise<{ messages: TrainerMessage[]; count: number; seconds: number }> {
  const messages: TrainerMessage[] = [];
  let count = 0, first = 0, last = 0;
  const proc = new TrainerProcess(command, s, process.env, async (m) => {
    last = performance.now();
    if (count++ === 0) first = last;
    if (m.type !== 'progress') messages.push(m);
  }, () => undefined);
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`${command.join(' ')} exited ${exit.code}: ${exit.stderrTail}`);
  return { messages, count, seconds: (last - first) / 1000 };
}

/** The bare loop: lora_sft's own model, batches and AdamW, no SDK; prints tokens/s of the LoRA steps. */
const BARE = `
import sys, time, math, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1]); train = sys.argv[2]; sys.argv = ['lora_sft.py'] + sys.argv[3:]
import lora_sft as L
from ftnode_trainer import read_examples, DataFile
a = L.parse_args(sys.argv[1:])
if a.threads: torch.set_num_threads(a.threads)
dev = L.device_for(a.device); torch.manual_seed(1)
ex = read_examples([DataFile('train.jsonl', train)])
tok = L.Tokenizer.fit([e.prompt + "\\n" + e.answer for e in ex], a.vocab_pieces)
m = L.DecoderLM(L.ModelConfig(tok.size, a.d_model, a.layers, a.heads, a.max_len)); L.add_lora(m, a.rank, a.alpha, 1); m.to(dev)
rows = [L.encode_example(tok, e, a.max_len, a.max_answer_tokens) for e in ex]
opt = torch.optim.AdamW([p for n, p in m.named_parameters() if '.lora_' in n], lr=a.lr)
tokens, secs = 0, 0.0
for k in range(1, a.steps + 1):
    t0 = time.perf_counter()
    x, y, n = L.batch_tensors(L.batch_at(rows, a.batch_size, 1, 2, k), True, dev)
    loss = F.cross_entropy(m(x).flatten(0, 1), y.flatten(), ignore_index=-100)
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); float(loss)
    secs += time.perf_counter() - t0; tokens += int((x != L.PAD).sum())
print(tokens / secs)
`;

async function training(files: SftFiles): Promise<string[][]> {
  const rows: string[][] = [];
  for (const size of SIZES) {
    for (const threads of opts.threads.split(',').map(Number)) {
      const args = ['--threads', String(threads), '--device', opts.device, '--base-steps', '0', '--steps', String(opts.steps), '--evals', '1', ...size.args];
      // --base-steps 0 with no --base: the LoRA phase on a fresh base (the bench times steps, not learning)
      const r = await viaWorker([PYTHON, LORA_SFT, ...args], spec(files));
      const done = r.messages.find((m) => m.type === 'done');
      const tps = done?.type === 'done' ? done.metrics?.train_tokens_per_second ?? NaN : NaN;
      const hp = r.messages.find((m) => m.type === 'hyperparameters');
      const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
      const bare = spawnSync(PYTHON, ['-c', BARE, join(PYTHON_DIR, 'trainers'), files.train, ...args], { encoding: 'utf8', env });
      if (bare.status !== 0) throw new Error(`bare loop failed: ${bare.stderr}`);
      const base = Number(bare.stdout.trim());
      rows.push([size.name, String(threads), hp?.type === 'hyperparameters' ? String(hp.values.device) : '?', tps.toFixed(0), base.toFixed(0), (tps / base).toFixed(2)]);
      console.log(`  ${rows.at(-1)!.join(' | ')}`); // as each finishes: a slow configuration still leaves the others' figures
    }
  }
  return rows;
}

const SDK_SENDER = `
import sys; sys.path.insert(0, sys.argv[1])
from ftnode_trainer import run
N = int(sys.argv[2])
def train(s):
    for i in range(1, N + 1): s.progress(i, N, phase="training")
    s.done(N)
run(train, trainer="bench-sdk")`;
const PRINT_SENDER = `
import sys, json
sys.stdin.readline(); N = int(sys.argv[2])
print(json.dumps({"type": "hello", "protocol": 1, "trainer": "bench-print"}), flush=True)
for i in range(1, N + 1): print(json.dumps({"type": "progress", "step": i, "total_steps": N, "phase": "training"}, separators=(",", ":")), flush=True)
print(json.dumps({"type": "done", "reason": "completed", "step": N}), flush=True)`;
/** The reader's ceiling: the same lines preformatted and written in 64 KiB blocks (no flush per line). */
const BLOCK_SENDER = `
import sys, json
sys.stdin.readline(); N = int(sys.argv[2])
sys.stdout.write(json.dumps({"type": "hello", "protocol": 1, "trainer": "bench-block"}) + "\\n")
sys.stdout.write("".join('{"type":"progress","step":%d,"total_steps":%d,"phase":"training"}\\n' % (i, N) for i in range(1, N + 1)))
sys.stdout.write(json.dumps({"type": "done", "reason": "completed", "step": N}) + "\\n"); sys.stdout.flush()`;

async function protocolOverhead(): Promise<string[][]> {
  const rows: string[][] = [];
  const rates: Record<string, number> = {};
  for (const [name, code] of [['print(..., flush=True) only (baseline)', PRINT_SENDER], ['ftnode_trainer SDK Session.progress', SDK_SENDER], ['preformatted, block writes (reader ceiling)', BLOCK_SENDER]] as const) {
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const r = await viaWorker([PYTHON, '-c', code, PYTHON_DIR, String(opts.messages)], spec(null));
      best = Math.max(best, r.count / r.seconds);
    }
    rates[name] = best;
    rows.push([name, String(opts.messages + 2), best.toFixed(0), (best / rates['print(..., flush=True) only (baseline)']!).toFixed(2)]);
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(`python-trainer: ${machineLine()}`);
  const missing = torchMissing();
  const proto = await protocolOverhead();
  console.log('\nprotocol messages through the worker\'s reader (best of 3)');
  console.log(table(['sender', 'messages', 'messages/s', 'ratio'], proto));
  let train: string[][] = [];
  if (missing) console.log(`\ntraining: ${missing}`);
  else {
    const files = writeComposedSft(7, 300);
    temps.push(files.dir);
    train = await training(files);
    console.log(`\nlora_sft.py training tokens/s (${opts.steps} LoRA steps of batch 16, ~30 tokens an example)`);
    console.log(table(['model', 'threads', 'device', 'trainer tokens/s', 'bare loop tokens/s', 'ratio'], train));
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine: machineLine(), proto, train }, null, 2));
  for (const d of temps) rmSync(d, { recursive: true, force: true });
}

await main();
