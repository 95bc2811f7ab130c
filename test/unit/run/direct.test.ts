import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasBashExtras, isPlainPosixShell, simpleCommandArgv } from '../../../src/run/direct.js';
import { shellQuote } from '../../../src/util/strings.js';

describe('running a simple command without a shell', () => {
  test('plain words and our own quoting become argv', () => {
    assert.deepEqual(simpleCommandArgv('cp src/a.txt out/a.txt'), ['cp', 'src/a.txt', 'out/a.txt']);
    assert.deepEqual(simpleCommandArgv("python  scripts/x.py  --threshold=3.5 -o 'a b.txt'"), ['python', 'scripts/x.py', '--threshold=3.5', '-o', 'a b.txt']);
    const nasty = "it's a;b $x `y` \"z\"";
    assert.deepEqual(simpleCommandArgv(`cat ${shellQuote(nasty)} ''`), ['cat', nasty, '']);
  });

  test('anything a shell would interpret keeps the shell', () => {
    for (const c of [
      'cat a > b',
      'a | b',
      'a && b',
      'a; b',
      'echo $HOME',
      'ls *.txt',
      'cd dir',
      'echo hi',
      'true',
      'test -f x',
      'FOO=1 cmd',
      'cmd "quoted"',
      'cmd ~/x',
      'cmd a\\ b',
      'cmd # comment',
      'a\nb',
      "cmd 'unclosed",
      '',
      '   ',
    ]) {
      assert.equal(simpleCommandArgv(c), undefined, c);
    }
  });

  test('only POSIX shells whose options do not change a simple command', () => {
    assert.equal(isPlainPosixShell(['/bin/sh', '-c'], false), true);
    assert.equal(isPlainPosixShell(['bash', '-euo', 'pipefail', '-c'], false), true);
    assert.equal(isPlainPosixShell(['/usr/bin/bash', '-e', '-c'], false), true);
    assert.equal(isPlainPosixShell(['bash', '-x', '-c'], false), false, '-x traces the command');
    assert.equal(isPlainPosixShell(['python3', '-c'], false), false);
    assert.equal(isPlainPosixShell(['bash', '-l', '-c'], false), false, 'a login shell reads profiles');
    assert.equal(isPlainPosixShell(['bash'], false), false);
    assert.equal(isPlainPosixShell(['zsh', '-c'], false), false, 'zsh reads ~/.zshenv even with -c');
    assert.equal(isPlainPosixShell(['bash', '-c'], true), false, 'bash -c sources BASH_ENV, or has exported functions');
    assert.equal(isPlainPosixShell(['/bin/sh', '-c'], true), true, 'sh reads neither');
    assert.equal(hasBashExtras({ BASH_ENV: '/etc/modules.sh' }), true);
    assert.equal(hasBashExtras({ 'BASH_FUNC_module%%': '() { echo; }' }), true);
    assert.equal(hasBashExtras({ BASH_ENV: '', PATH: '/bin' }), false);
  });
});
