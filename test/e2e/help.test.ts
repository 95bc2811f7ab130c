// `--help` documents every flag (SPEC §5), `--version` prints the version.

import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, REPO, show } from './helpers.js';

// The flags of each command, as SPEC §5 names them.
const CONFIG_FLAGS = ['-f', '--config', '--configfile'];
const BUILD_FLAGS = ['-j', '-k', '-n', '--dry-run', '-B', '--force', '--check', '--json', '--watch', '--executor', '--resources', ...CONFIG_FLAGS, '--log-format', '-q', '-v'];
const COMMAND_FLAGS: Record<string, string[]> = {
  build: BUILD_FLAGS,
  // `rules watch` = `build --watch`: the build flags, less those that make no sense while watching.
  watch: BUILD_FLAGS.filter((f) => !['--watch', '-n', '--dry-run', '--json'].includes(f)),
  graph: ['--format', ...CONFIG_FLAGS],
  list: CONFIG_FLAGS,
  clean: ['-n', ...CONFIG_FLAGS],
  config: ['--json', ...CONFIG_FLAGS],
};

function mentions(help: string, flag: string): boolean {
  const escaped = flag.replace(/[-]/g, '\\-');
  return new RegExp(`(^|[\\s,\\[(/|])${escaped}(?![\\w-])`, 'm').test(help);
}

function missing(help: string, flags: string[]): string[] {
  return flags.filter((f) => !mentions(help, f));
}

describe('--help', () => {
  test('rules --help lists every command, --help and --version, and exits 0', (t) => {
    const p = project(t);
    for (const args of [['--help'], ['-h']]) {
      const r = p.run(args);
      assert.equal(r.status, 0, show(r));
      for (const cmd of Object.keys(COMMAND_FLAGS)) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), `command ${cmd}`);
      assert.deepEqual(missing(r.stdout, ['--help', '--version']), []);
    }
  });

  test('rules --help documents every flag a bare `rules` (which builds) accepts', (t) => {
    const p = project(t);
    const r = p.run(['--help']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(missing(r.stdout, BUILD_FLAGS), [], `rules --help:\n${r.stdout}`);
  });

  for (const [cmd, flags] of Object.entries(COMMAND_FLAGS)) {
    test(`rules ${cmd} --help documents every flag of ${cmd}`, (t) => {
      const p = project(t);
      const r = p.run([cmd, '--help']);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, new RegExp(`rules ${cmd}\\b`));
      assert.deepEqual(missing(r.stdout, [...flags, '--help']), [], `rules ${cmd} --help:\n${r.stdout}`);
      // Help needs no Rulefile and writes nothing.
      assert.deepEqual(fs.readdirSync(p.dir), []);
    });
  }

  test('the flags named in build --help are accepted by build', (t) => {
    const p = project(t, { Rulefile: 'rules:\n  a:\n    outputs: a.txt\n    run: touch {output}\n' });
    const r = p.run(['build', '-n', '-B', '-k', '-j', '2', '-q', '-v', '--check', 'mtime', '--executor', 'local', '--resources', 'mem_mb=10', '--log-format', 'text', '-f', 'Rulefile', '--config', 'x=1']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^a a\.txt: forced$/m);
  });
});

describe('--version', () => {
  test('prints "rules VERSION" from package.json', (t) => {
    const p = project(t);
    const version = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(version, '0.1.0');
    const r = p.run(['--version']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'rules 0.1.0\n');
    assert.equal(r.stderr, '');
  });
});
