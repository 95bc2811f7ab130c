// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner,
// or those whose path contains one of the arguments. The tests that need a
// SLURM cluster run only with --slurm (`npm run test:slurm`): they may install
// SLURM and start its daemons (scripts/slurm-up.sh), which `npm test` never does.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  let out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(find(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// The programs some end-to-end tests run (python3, a C compiler) are installed when missing.
spawnSync('bash', ['scripts/test-tools.sh'], { stdio: 'inherit' });

/** The test files that need a SLURM cluster. */
const SLURM = ['dist/test/e2e/slurm.test.js'];

const slurm = process.argv.includes('--slurm');
const filter = process.argv.slice(2).filter((a) => a !== '--slurm');
const matching = find('dist/test')
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .sort();
const files = matching.filter((f) => SLURM.includes(f) === slurm);
const left = matching.length - files.length;
if (!slurm && left > 0) console.error(`test/run.mjs: left out ${left} test file(s) that need a SLURM cluster; npm run test:slurm runs them`);
if (files.length === 0) {
  console.error(`no test files found under dist/test${slurm ? ' that need a SLURM cluster' : ''}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
