// `rules report` (SPEC §9): after a real build with a failure under -k, one
// HTML file that names every rule and fetches nothing; loaded in headless
// Chromium, it runs without errors, draws a bar per job and makes a
// screenshot. No history yet: exit 2 and a line saying to build first.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { project, show, yaml, type Project } from './helpers.js';

const RULEFILE = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs: [total.txt, broken.txt]',
  '  count:',
  '    inputs: "in/{n}.txt"',
  '    outputs: "counts/{n}.txt"',
  '    resources: { mem_mb: 64000, runtime: 1 }',
  // Long enough to be sampled for its memory (docs/usage.md): a few MB, far below 64 GB.
  '    run: sleep 0.2; wc -c < {input} > {output}',
  '  total:',
  '    inputs: ["counts/a.txt", "counts/b.txt", "counts/c.txt"]',
  '    outputs: total.txt',
  '    run: cat {inputs} > {output}',
  '  broken:',
  '    outputs: broken.txt',
  '    run: echo "about to fail <oops>"; exit 3',
);

function built(t: TestContext): Project {
  const p = project(t, { Rulefile: RULEFILE, 'in/a.txt': 'aaa\n', 'in/b.txt': 'bb\n', 'in/c.txt': 'c\n' });
  const r = p.run(['build', '-k', '-j2']);
  assert.equal(r.status, 1, show(r));
  return p;
}

/** The attempts of the last build that ran a process: the bars its timeline has. */
function barsOf(p: Project): number {
  const last = JSON.parse(p.read('.rules/history/last-build.json')) as { jobs: { status: string }[] };
  return last.jobs.filter((j) => j.status !== 'skipped').length;
}

function chromium(): string {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim();
  }
  // Not a skip: scripts/test-tools.sh installs it, and without it the page is untested.
  assert.fail('chromium is not installed (scripts/test-tools.sh installs it: apt-get install chromium)');
}

/** Runs headless Chromium on a page with its own profile; stdout and stderr (its log, with the page's console) back. */
function browse(p: Project, page: string, flags: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(chromium(), ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${p.path('.chromium')}`, '--enable-logging=stderr', '--v=0', ...flags, `file://${p.path(page)}`], {
    encoding: 'utf8',
    timeout: 90_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(r.error, undefined, `chromium ran: ${String(r.error)}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The page's script errors and console errors in Chromium's log. */
function pageErrors(log: string): string[] {
  return log.split('\n').filter((l) => /Uncaught|CONSOLE\(\d+\)\].*error|:CONSOLE:\d+\].*(Error|error)/.test(l));
}

describe('rules report', () => {
  test('one self-contained file naming every rule, the failure with its output, the resources flagged', (t) => {
    const p = built(t);
    const before = fs.readdirSync(p.dir).sort();
    const r = p.run(['report']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /^rules: wrote rules-report\.html \(the build of .* UTC, \d+ jobs; \d+ KB\)\n$/);
    assert.deepEqual(fs.readdirSync(p.dir).sort(), [...before, 'rules-report.html'].sort(), 'one file, nothing beside it');
    const html = p.read('rules-report.html');
    for (const rule of ['all', 'count', 'total', 'broken']) assert.ok(html.includes(`>${rule}<`), `names rule ${rule}`);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing fetched from the network');
    assert.doesNotMatch(html, /\s(src|href)="(?!#)/, 'no reference to another file');
    assert.match(html, /about to fail &lt;oops&gt;/, "the failed job's output");
    assert.match(html, /exit status 3/);
    assert.match(html, /far too much<\/span> <b>mem_mb: \d+<\/b>/, `64 GB for wc -c: ${p.read('.rules/history/rules.json')}`);
    assert.match(html, /output missing/);
  });

  test('-o FILE, and -C DIR', (t) => {
    const p = built(t);
    fs.mkdirSync(p.path('sub'));
    const r = p.run(['-C', '..', 'report', '-o', 'sub/page.html'], { cwd: 'sub' });
    assert.equal(r.status, 0, show(r));
    assert.ok(p.exists('sub/page.html'), 'written relative to -C');
    assert.ok(!p.exists('rules-report.html'));
    const bad = p.run(['report', '-o', 'no/such/dir/page.html']);
    assert.equal(bad.status, 2, show(bad));
    assert.match(bad.stderr, /cannot write no\/such\/dir\/page\.html/);
  });

  test('no build yet: exit 2, one line saying to build first, no file', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    const r = p.run(['report']);
    assert.equal(r.status, 2, show(r));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no build to report.*run 'rules build' first/);
    assert.ok(!p.exists('rules-report.html'));
    const extra = p.run(['report', 'all']);
    assert.equal(extra.status, 2, show(extra));
    assert.match(extra.stderr, /takes no targets/);
  });

  test('loads in headless Chromium with no errors, a bar per job, and a screenshot', (t) => {
    const p = built(t);
    assert.equal(p.run(['report']).status, 0);
    const shot = p.path('shot.png');
    const { stderr } = browse(p, 'rules-report.html', [`--screenshot=${shot}`, '--window-size=1400,2000']);
    assert.deepEqual(pageErrors(stderr), [], 'no console errors');
    const png = fs.readFileSync(shot);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(png.length > 20_000, `a screenshot with something on it (${png.length} bytes)`);

    const dom = browse(p, 'rules-report.html', ['--dump-dom']);
    assert.deepEqual(pageErrors(dom.stderr), []);
    const canvas = /<canvas id="timeline-canvas"[^>]*>/.exec(dom.stdout)?.[0] ?? '';
    const bars = /data-bars="(\d+)"/.exec(canvas)?.[1];
    assert.equal(Number(bars), barsOf(p), `the timeline drew a bar per job: ${canvas}`);
    assert.ok(barsOf(p) >= 5, 'three counts, the total, the failure');
  });

  test('the browser check sees a page whose script fails', (t) => {
    const p = built(t);
    assert.equal(p.run(['report']).status, 0);
    // The same page with its timeline data cut short: the script throws.
    const html = p.read('rules-report.html').replace(/(<script type="application\/json" id="timeline-data">)\{/, '$1{,');
    fs.writeFileSync(path.join(p.dir, 'broken.html'), html);
    const { stderr, stdout } = browse(p, 'broken.html', ['--dump-dom']);
    assert.notDeepEqual(pageErrors(stderr), [], 'the error is seen');
    assert.doesNotMatch(stdout, /data-bars=/);
  });
});
