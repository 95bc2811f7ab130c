// `rules completion bash|zsh|fish`: scripts made from the table of commands
// and flags. The bash script is run for real: its function is called with
// the words of a command line, as bash calls it on TAB.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { COMMANDS, FLAGS } from '../../src/cli/args.js';
import { CLI, project, show, yaml, type Project } from './helpers.js';

function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** What the bash script completes for the words of a command line (the last one being completed). */
function completeBash(p: Project, script: string, ...words: string[]): string[] {
  // `rules` on PATH is the CLI under test: the script calls it for target names.
  fs.mkdirSync(p.path('bin'), { recursive: true });
  fs.writeFileSync(p.path('bin/rules'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  const driver = `source ./completion.bash
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=()
_rules
printf '%s\\n' "\${COMPREPLY[@]}"`;
  fs.writeFileSync(p.path('completion.bash'), script);
  const r = spawnSync('bash', ['-c', driver], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, PATH: `${p.path('bin')}:${process.env.PATH}` } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('rules completion', () => {
  test('bash: the script is valid bash, and TAB completes commands, flags, flag values and targets', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  all: {inputs: [a.txt]}', '  alpha:', '    outputs: a.txt', '    run: touch a.txt') });
    const r = p.run(['completion', 'bash']);
    assert.equal(r.status, 0, show(r));
    fs.writeFileSync(p.path('check.bash'), r.stdout);
    const syntax = spawnSync('bash', ['-n', p.path('check.bash')], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'bu'), ['build']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'build', '--ke'), ['--keep-going', '--keep-temp']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'build', '--check', ''), ['hash', 'mtime']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', '-j', '4', 'graph', '--format', 'm'), ['mermaid']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'build', 'al'), ['all', 'alpha']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'completion', ''), ['bash', 'fish', 'zsh']);
    assert.deepEqual(completeBash(p, r.stdout, 'rules', 'list', '--c'), ['--config', '--configfile']);
    // Every command of the table is offered first.
    const first = completeBash(p, r.stdout, 'rules', '');
    for (const c of COMMANDS) assert.ok(first.includes(c.name), `${c.name} in ${first.join(' ')}`);
  });

  test('bash: every flag of every command in the table completes (a flag added there appears by itself)', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a: {run: x}') });
    const script = p.run(['completion', 'bash']).stdout;
    for (const c of COMMANDS) {
      const offered = completeBash(p, script, 'rules', c.name, '--');
      for (const f of c.flags) assert.ok(offered.includes(`--${FLAGS[f]!.long}`), `rules ${c.name} --${FLAGS[f]!.long}`);
    }
  });

  test(`zsh: ${has('zsh') ? 'zsh -n accepts the script' : 'zsh is not installed: the script is checked by its content'}`, (t) => {
    const p = project(t);
    const r = p.run(['completion', 'zsh']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^#compdef rules rulefile\n/);
    assert.match(r.stdout, /\ncompdef _rules rules rulefile\n$/);
    for (const c of COMMANDS) assert.ok(r.stdout.includes(`'${c.name}:`), `command ${c.name} is described`);
    assert.match(r.stdout, /\(--check\) compadd -- hash mtime; return ;;/);
    if (has('zsh')) {
      fs.writeFileSync(p.path('c.zsh'), r.stdout);
      const syntax = spawnSync('zsh', ['-n', p.path('c.zsh')], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
    }
  });

  test(`fish: ${has('fish') ? 'the script loads in fish, and complete -C offers commands, flags, flag values and targets' : 'fish is not installed: the script is checked by its content'}`, (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  all: {inputs: [a.txt]}', '  alpha:', '    outputs: a.txt', '    run: touch a.txt') });
    const r = p.run(['completion', 'fish']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^complete -c rules -n __fish_use_subcommand -a build -d 'bring targets up to date/m);
    assert.match(r.stdout, /^complete -c rules -n '__fish_seen_subcommand_from build' -s j -l jobs -x -d /m);
    assert.match(r.stdout, /^complete -c rules -n '__fish_seen_subcommand_from graph' -l format -x -a 'dot mermaid json' -d /m);
    assert.match(r.stdout, /^complete -c rulefile -f$/m);
    if (has('fish')) {
      fs.writeFileSync(p.path('c.fish'), r.stdout);
      const syntax = spawnSync('fish', ['-n', p.path('c.fish')], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
      // What fish offers on TAB, without its descriptions; `rules` on PATH is the CLI under test.
      fs.mkdirSync(p.path('bin'), { recursive: true });
      fs.writeFileSync(p.path('bin/rules'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
      const complete = (line: string) => {
        const c = spawnSync('fish', ['--no-config', '-c', `source c.fish; complete -C'${line}'`], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, PATH: `${p.path('bin')}:${process.env.PATH}` } });
        assert.equal(c.status, 0, c.stderr);
        assert.equal(c.stderr, '', `fish printed errors for '${line}'`);
        return c.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
      };
      assert.deepEqual(complete('rules bu'), ['build']);
      assert.deepEqual(complete('rules build --check '), ['hash', 'mtime']);
      assert.deepEqual(complete('rules build --keep-'), ['--keep-going', '--keep-temp']);
      assert.deepEqual(complete('rules build al'), ['all', 'alpha']);
    }
  });

  test('a missing or unknown shell is a usage error, exit 2', (t) => {
    const p = project(t);
    for (const args of [['completion'], ['completion', 'tcsh']]) {
      const r = p.run(args);
      assert.equal(r.status, 2, show(r));
      assert.match(r.stderr, /^rules: 'rules completion' takes one shell: bash, zsh, fish/);
      assert.equal(r.stdout, '');
    }
  });
});
