/**
 * Runs every benchmark in sequence, each in its own process with its default options:
 * api-read, lifecycle-latency, trainer (docs/benchmarks-core.md), then kernels, swat, swat-knn,
 * swat-fewshot, files, s3, s3-hop, python-trainer and datasets (1 GB generated JSONL and CSV, docs/benchmarks.md
 * "Real-sized datasets") when
 * they have been built (dist/bench/<name>.js; a missing one is skipped, not an error). One failing
 * bench does not stop the others; the exit code is 1 if any failed.
 *   npm run bench          (= npm run build && node dist/bench/run-all.js)
 *   node dist/bench/run-all.js [name ...]   only the named benches, in the order given
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineLine } from './lib/machine.js';
import { table } from './lib/stats.js';

const ALL = ['api-read', 'lifecycle-latency', 'trainer', 'kernels', 'swat', 'swat-knn', 'swat-fewshot', 'files', 's3', 's3-hop', 'python-trainer', 'datasets'];

function run(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: 'inherit' });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !ALL.includes(w));
  if (unknown.length > 0) throw new Error(`unknown bench(es): ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  console.log(`run-all: ${machineLine()}`);
  const rows: string[][] = [];
  let failed = 0;
  for (const name of wanted.length > 0 ? wanted : ALL) {
    const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
    if (!existsSync(file)) {
      console.log(`\n=== ${name}: skipped (${file} not built)`);
      rows.push([name, 'skipped', '']);
      continue;
    }
    console.log(`\n=== ${name}: node ${file}`);
    const t0 = performance.now();
    const code = await run(file);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    if (code !== 0) failed++;
    rows.push([name, code === 0 ? 'ok' : `FAILED (exit ${code})`, seconds]);
  }
  console.log(`\n${table(['bench', 'result', 'seconds'], rows)}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(2);
});
