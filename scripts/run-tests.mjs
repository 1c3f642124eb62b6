// Runs every compiled *.test.js under dist/test and dist/src with node's test runner.
// Node 20's `node --test <dir>` would also run every .js file inside a folder named `test`
// (helpers, fixture trainers), and it has no glob support, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = ['dist/test', 'dist/src'].flatMap((d) => find(d)).sort();
const args = ['--test', '--test-concurrency=2', '--test-timeout=180000', ...process.argv.slice(2), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
