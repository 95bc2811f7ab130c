// The package as a user gets it: the built CLI is an executable file with a
// node shebang; `npm pack` makes a tarball with what the package needs; the
// tarball installs into a fresh prefix without a warning, and there the
// README's tutorial works word for word in a directory outside the
// repository, and the package imports by its name as a library.

import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, REPO } from './helpers.js';

test('the CLI file is executable and runs by itself', () => {
  assert.ok((fs.statSync(CLI).mode & 0o111) !== 0, `${CLI} is executable`);
  assert.match(fs.readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rules \d+\.\d+\.\d+\n$/);
});

test('package.json: the package is `rulefile`, with the bins `rules` and `rulefile`, and no install-time script', () => {
  const pkg = JSON.parse(fs.readFileSync(`${REPO}/package.json`, 'utf8')) as { name: string; bin: Record<string, string>; scripts: Record<string, string> };
  assert.equal(pkg.name, 'rulefile');
  assert.deepEqual(pkg.bin, { rules: 'dist/bin/main.js', rulefile: 'dist/bin/main.js' });
  // npm lists these for a tarball or git install as scripts to review (and runs them); `preprepare` runs only in the clone.
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[s], undefined, `no '${s}' script`);
});

/** Runs a command; throws with its output when it fails. */
function sh(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r;
}

describe('the packed package, installed', () => {
  let tmp: string;
  let tarball: string;
  let prefix: string;
  let installed: string;
  let install: SpawnSyncReturns<string>;
  /** The environment a user has after the install: its bin directory first on PATH. */
  let env: NodeJS.ProcessEnv;

  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rules-install-')));
    // --ignore-scripts: `prepack` would build dist/ again under the other tests that run it; `npm test` has just built it.
    const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO });
    tarball = path.join(tmp, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    prefix = path.join(tmp, 'prefix');
    // The dependencies are in npm's cache since `npm ci`: no network.
    install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
    installed = path.join(prefix, 'lib', 'node_modules', 'rulefile');
    if (install.status !== 0) {
      // Not in the cache: the same install by hand, the dependencies taken from the repository's node_modules.
      process.stderr.write(`# npm install --offline failed; installing from the repository's node_modules instead:\n${install.stderr}\n`);
      fs.mkdirSync(installed, { recursive: true });
      sh('tar', ['xzf', tarball, '--strip-components=1', '-C', installed], { cwd: tmp });
      for (const dep of Object.keys((JSON.parse(fs.readFileSync(`${REPO}/package.json`, 'utf8')) as { dependencies: Record<string, string> }).dependencies)) {
        fs.cpSync(path.join(REPO, 'node_modules', dep), path.join(installed, 'node_modules', dep), { recursive: true });
      }
      fs.mkdirSync(path.join(prefix, 'bin'), { recursive: true });
      for (const bin of ['rules', 'rulefile']) fs.symlinkSync(path.join(installed, 'dist/bin/main.js'), path.join(prefix, 'bin', bin));
    }
    env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the tarball holds the built CLI, the library and its types, LICENSE, README and the docs it links to; no sources, tests or maps', () => {
    const files = sh('tar', ['tzf', tarball], { cwd: tmp }).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/bin/main.js', 'dist/bin/stamp-worker.js', 'dist/bin/spawner-process.js', 'dist/api/api.js', 'dist/src/api.d.ts', 'docs/api.md']) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    assert.deepEqual(files.filter((f) => /^(src|test|dist\/test)\/|\.map$|^dist\/src\/.*\.js$/.test(f)), []);
    // Every relative link of the README leads to a file of the package (npm shows the README; the docs come with it).
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    assert.ok(links.length > 0);
    for (const l of links) assert.ok(files.includes(l), `README links to ${l}, which is in the tarball`);
    assert.match(fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} the rules authors\n/);
  });

  test('installing it runs no script and warns of nothing; `rules` and `rulefile` are on PATH', () => {
    if (install.status === 0) {
      assert.doesNotMatch(install.stdout + install.stderr, /warn|prepare|preprepare/i, install.stdout + install.stderr);
    }
    assert.equal(fs.existsSync(path.join(installed, 'dist', 'test')), false);
    for (const bin of ['rules', 'rulefile']) {
      const r = sh(bin, ['--version'], { cwd: tmp, env });
      assert.match(r.stdout, /^rules \d+\.\d+\.\d+\n$/);
    }
  });

  test("the README's tutorial, word for word, in a directory outside the repository", () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const tutorial = readme.slice(readme.indexOf('## A five-minute tutorial'), readme.indexOf('8. **Watch**'));
    // A block in a numbered step is indented with its step: its lines without that indent.
    const blocks = [...tutorial.matchAll(/^( *)```(\w*)\n([\s\S]*?)^ *```/gm)].map((m) => ({ lang: m[2]!, text: m[3]!.replace(new RegExp(`^${m[1]}`, 'gm'), '') }));
    const [setUp, rulefile, dryRun, changed, mistake] = blocks;
    assert.equal(blocks.length, 5, 'the tutorial blocks: set-up, Rulefile, dry run, dry run after an edit, error');
    /** A command the tutorial names in a code span: run as the user types it. */
    const said = (cmd: string, cwd: string) => {
      assert.ok(tutorial.includes('`' + cmd + '`') || tutorial.includes(`$ ${cmd}\n`), `the tutorial says \`${cmd}\``);
      return spawnSync('bash', ['-c', cmd], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    };
    const home = path.join(tmp, 'work');
    fs.mkdirSync(home);
    assert.equal(setUp!.lang, 'sh');
    sh('bash', ['-e', '-c', setUp!.text], { cwd: home, env });
    const demo = path.join(home, 'demo');
    assert.match(rulefile!.text, /^# demo\/Rulefile\n/);
    fs.writeFileSync(path.join(demo, 'Rulefile'), rulefile!.text);

    // 1. The dry run, line for line.
    const [typed, ...expected] = dryRun!.text.trimEnd().split('\n');
    assert.equal(typed, '$ rules build -n');
    let r = said('rules build -n', demo);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), expected);
    // 2. Build; again: nothing to do.
    r = said('rules build', demo);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(demo, 'summary.txt'), 'utf8'), '6 counts/hamlet.txt\n4 counts/fox.txt\n');
    r = said('rules build', demo);
    assert.match(r.stdout + r.stderr, /nothing to do/);
    assert.ok(tutorial.includes('`nothing to do`'));
    // 3. Edit a text: the dry run the tutorial shows; `touch` alone changes nothing.
    r = said('touch texts/fox.txt', demo);
    assert.equal(said('rules build -n', demo).stdout, '');
    fs.writeFileSync(path.join(demo, 'texts/fox.txt'), 'the quick brown fox jumps\n');
    r = said('rules build -n', demo);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), changed!.text.trimEnd().split('\n'));
    // 5. A parameter from the command line; the config and where it came from.
    assert.equal(said('rules build', demo).status, 0);
    r = said('rules build --config top=1', demo);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(demo, 'summary.txt'), 'utf8'), '6 counts/hamlet.txt\n');
    r = said('rules config', demo);
    assert.match(r.stdout, /top/);
    // 6. One file; the graph; the rules; what clean would delete.
    assert.equal(said('rules build counts/hamlet.txt', demo).status, 0);
    assert.match(spawnSync('bash', ['-c', 'rules graph'], { cwd: demo, env, encoding: 'utf8' }).stdout, /^digraph/);
    assert.match(said('rules list', demo).stdout, /count/);
    r = said('rules clean -n', demo);
    assert.match(r.stdout, /^would remove summary\.txt$/m);
    // 7. The misspelt key: the message the tutorial shows.
    fs.writeFileSync(path.join(demo, 'Rulefile'), rulefile!.text.replace('    outputs: "counts/{name}.txt"', '    ouputs: "counts/{name}.txt"'));
    r = said('rules build', demo);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes(mistake!.text.trim()), r.stderr);
  });

  test('the library imports by its name: plan and build a tiny project, hearing its events; a mistake is a value with its place; its types check', () => {
    const dir = path.join(tmp, 'lib-user');
    fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    fs.symlinkSync(installed, path.join(dir, 'node_modules', 'rulefile'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    fs.mkdirSync(path.join(dir, 'broken'));
    fs.writeFileSync(path.join(dir, 'broken', 'Rulefile'), 'rules:\n  hello:\n    ouputs: hello.txt\n    run: echo hello > {output}\n');
    fs.writeFileSync(path.join(dir, 'Rulefile'), 'rules:\n  hello:\n    outputs: hello.txt\n    run: echo hello > {output}\n');
    fs.writeFileSync(
      path.join(dir, 'use.mjs'),
      [
        "import { build, formatDiagnostic, loadProject, plan, UserError } from 'rulefile';",
        'const project = await loadProject();',
        'const planned = await plan();',
        'const events = [];',
        'const built = await build({ onEvent: (e) => events.push(e.type) });',
        'const again = await build();',
        "const broken = await build({ dir: 'broken' });",
        "const thrown = await loadProject({ dir: 'broken' }).catch((e) => e);",
        'console.log(JSON.stringify({ rules: project.rules.map((r) => r.name), planned: planned.jobs.map((j) => [j.label, j.reason]), events, built: built.exitCode, ran: built.counts?.ran, again: again.exitCode,',
        '  broken: [broken.exitCode, broken.diagnostics.map(formatDiagnostic)], thrown: thrown instanceof UserError }));',
      ].join('\n'),
    );
    const r = sh(process.execPath, ['use.mjs'], { cwd: dir, env });
    assert.deepEqual(JSON.parse(r.stdout), {
      rules: ['hello'],
      planned: [['hello', 'output missing: hello.txt']],
      events: ['build-start', 'job-start', 'job-finish', 'build-finish'],
      built: 0,
      ran: 1,
      again: 0,
      broken: [2, ["Rulefile:3:5: unknown key 'ouputs' in rule 'hello' (did you mean 'outputs'?)"]],
      thrown: true,
    });
    assert.equal(r.stderr, '', 'the library prints nothing');
    assert.equal(fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8'), 'hello\n');

    // The declarations: a TypeScript user's code checks against them, and a mistake is caught (as expected).
    fs.writeFileSync(
      path.join(dir, 'use.ts'),
      [
        "import { build, type BuildEvent, type BuildResult } from 'rulefile';",
        'const result: BuildResult = await build({ jobs: 2, onEvent: (e: BuildEvent) => { if (e.type === "job-finish") console.log(e.job.label, e.durationMs); } });',
        'export const code: number = result.exitCode;',
        // Were the declarations loose (`any`), this line would check, and the directive above it would be the error.
        '// @ts-expect-error: exitCode is a number',
        'export const wrong: string = result.exitCode;',
      ].join('\n'),
    );
    const types = path.join(REPO, 'node_modules', '@types');
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, typeRoots: [types], types: ['node'] }, files: ['use.ts'] }),
    );
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  });
});

test("the README's set-up, after `npm ci`: its install and the example pipeline, word for word, in a copy of the clone", () => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const setUp = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## A five-minute tutorial'));
  const block = /^```sh\n([\s\S]*?)^```/m.exec(setUp);
  assert.ok(block, 'the set-up has a sh block');
  const lines = block[1]!.split('\n').filter(Boolean).map((l) => l.replace(/\s+#.*$/, ''));
  assert.equal(lines.length, 2, 'two commands: install and run the example, then the tests');
  assert.equal(lines[1], 'npm test');
  // `npm ci` has been run: it is what made this test. The rest of the line is run as written.
  assert.ok(lines[0]!.startsWith('npm ci && '), lines[0]);
  const rest = lines[0]!.slice('npm ci && '.length);
  assert.match(rest, /^npm i -g \. && rules -f Rulefile\.example build$/);
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rules-setup-')));
  try {
    // A clone after `npm ci`, as far as the install and the example need it: the bundled CLI is whole by itself.
    const clone = path.join(tmp, 'clone');
    for (const p of ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'Rulefile.example', 'rules', 'dist/bin', 'node_modules/yaml', 'node_modules/picomatch']) {
      fs.cpSync(path.join(REPO, p), path.join(clone, p), { recursive: true });
    }
    const prefix = path.join(tmp, 'prefix');
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync('bash', ['-e', '-c', rest], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${rest}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.ok(fs.realpathSync(path.join(prefix, 'bin', 'rules')).startsWith(clone), '`rules` on PATH runs the clone');
    assert.match(r.stdout + r.stderr, /\d+ jobs done/);
    assert.ok(fs.existsSync(path.join(clone, 'catalog.csv')), 'the example made its catalog');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
