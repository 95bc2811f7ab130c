// `rules init`: a commented starter Rulefile that builds as it is, never
// written over an existing Rulefile.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { project, show, yaml } from './helpers.js';

test('rules init writes a commented Rulefile that loads, plans and builds in an empty directory', (t) => {
  const p = project(t);
  const r = p.run(['init']);
  assert.equal(r.status, 0, show(r));
  assert.equal(r.stderr, "rules: wrote Rulefile; try 'rules build -n'\n");
  const text = p.read('Rulefile');
  assert.ok(text.split('\n').filter((l) => l.trimStart().startsWith('#')).length >= 10, 'it explains itself in comments');

  const dry = p.run(['build', '-n']);
  assert.equal(dry.status, 0, show(dry));
  assert.equal(dry.stderr, '', 'no warning');
  assert.equal(dry.stdout, ['greet[name=world] greetings/world.txt: output missing: greetings/world.txt', 'greet[name=rules] greetings/rules.txt: output missing: greetings/rules.txt', 'all: always', ''].join('\n'));
  const built = p.run(['build']);
  assert.equal(built.status, 0, show(built));
  assert.equal(p.read('greetings/world.txt'), 'Hello, world!\n');
  assert.match(p.run(['build']).stdout, /^rules: nothing to do$/m);
  // What its comments promise: a config value from the command line reruns the jobs that use it.
  assert.equal(p.run(['build', '--config', 'greeting=Hi']).status, 0);
  assert.equal(p.read('greetings/rules.txt'), 'Hi, rules!\n');
});

test('rules init never overwrites a Rulefile: exit 2, one clear line, the file unchanged', (t) => {
  for (const name of ['Rulefile', 'Rulefile.yml']) {
    const p = project(t, { [name]: yaml('rules:', '  mine:', '    outputs: x') });
    const r = p.run(['init']);
    assert.equal(r.status, 2, show(r));
    assert.equal(r.stderr, `rules: ${name} already exists; rules init writes a new Rulefile and never overwrites one\n`);
    assert.equal(r.stdout, '');
    assert.equal(p.read(name), yaml('rules:', '  mine:', '    outputs: x'));
    assert.equal(p.exists('Rulefile') && name !== 'Rulefile', false, 'no Rulefile beside it');
  }
});

test('rules init -f FILE writes FILE (and refuses an existing one); rules init --help', (t) => {
  const p = project(t, { Rulefile: 'rules: {}\n' });
  const r = p.run(['init', '-f', 'pipeline.yaml']);
  assert.equal(r.status, 0, show(r));
  assert.equal(r.stderr, "rules: wrote pipeline.yaml; try 'rules build -n -f pipeline.yaml'\n");
  assert.equal(p.run(['build', '-n', '-f', 'pipeline.yaml']).status, 0);
  assert.equal(p.run(['init', '-f', 'pipeline.yaml']).status, 2);
  assert.equal(p.run(['init', 'extra']).status, 2);
  const help = p.run(['init', '--help']);
  assert.match(help.stdout, /^Usage: rules init \[OPTIONS\]\n\nWrite a commented starter Rulefile here/);
  assert.match(p.run(['--help']).stdout, /^ {2}init +write a commented starter Rulefile/m);
});
