// `depfile:` (SPEC §6) as the loader and the graph check it: the file is
// deleted after it is read, so it must be a file of the job's own, inside the
// root, and never anybody's input, output or log. Every refusal names the job,
// the path, and the place of `depfile` in the Rulefile.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { jobSignature } from '../../../src/plan/signature.js';
import type { Diagnostic } from '../../../src/util/errors.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { graphProblems, projectFrom, yaml } from '../../support/project.js';
import { expectOnlyError, yaml as lines } from '../rulefile/helpers.js';

function graphErrors(rulefile: string, targets: string[], fs = new FakeFileSystem()): Diagnostic[] {
  return graphProblems(projectFrom(rulefile), targets, fs);
}

const place = (d: Diagnostic) => (d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}` : '(none)');

describe('depfile: the key', () => {
  test('rendered per job: {output}, {outputs.NAME}, wildcards and config', () => {
    const project = projectFrom(yaml`
      config: { depdir: deps }
      rules:
        cc:
          inputs: "src/{name}.c"
          outputs: { obj: "obj/{name}.o", lst: "lst/{name}.lst" }
          depfile: "{config.depdir}/{outputs.obj}.d"
          run: cc -MD -MF {config.depdir}/{outputs.obj}.d -c {input} -o {outputs.obj} > {outputs.lst}
        one:
          inputs: "src/{name}.c"
          outputs: "one/{name}.o"
          depfile: "{output}.d"
          run: cc -c {input} -o {output}
        wild:
          inputs: "src/{name}.c"
          outputs: "wild/{name}.o"
          depfile: "deps/{wildcards.name}.d"
          run: cc -c {input} -o {output}
    `);
    const fs = new FakeFileSystem().write('src/a.c');
    const graph = buildGraph(project, ['obj/a.o', 'one/a.o', 'wild/a.o'], fs);
    assert.deepEqual(
      graph.jobs.map((j) => j.depfile),
      ['deps/obj/a.o.d', 'one/a.o.d', 'deps/a.d'],
    );
  });

  test('a rule without depfile: jobs have none', () => {
    const project = projectFrom(yaml`
      rules:
        cc:
          inputs: a.c
          outputs: a.o
          run: cc -c a.c
    `);
    const graph = buildGraph(project, ['a.o'], new FakeFileSystem().write('a.c'));
    assert.equal(graph.jobs[0]!.depfile, undefined);
    assert.equal('depfile' in graph.jobs[0]!, false, 'no field at all: jobs without a depfile cost nothing more');
  });

  test('the depfile is part of the command in the signature (adding one reruns the job)', () => {
    const rule = (depfile: string) =>
      projectFrom(yaml`
        rules:
          cc:
            inputs: a.c
            outputs: a.o
            ${depfile}
            run: cc -c a.c
      `);
    const sig = (depfile: string) => {
      const p = rule(depfile);
      return jobSignature(p, buildGraph(p, ['a.o'], new FakeFileSystem().write('a.c')).jobs[0]!);
    };
    const without = sig('description: no depfile');
    assert.notEqual(sig('depfile: a.o.d').command, without.command);
    assert.notEqual(sig('depfile: a.o.d').command, sig('depfile: deps/a.o.d').command);
    assert.equal(sig('depfile: a.o.d').inputs, without.inputs);
  });
});

describe('depfile: load errors, with their place', () => {
  test('a rule without outputs', () => {
    expectOnlyError(lines('rules:', '  all:', '    inputs: a.txt', '    depfile: all.d', '    run: touch a'), {
      message: "'depfile' of rule 'all': a rule without outputs makes no files, so there are no dependencies to discover; give it outputs or remove 'depfile'",
      line: 4,
      col: 5,
    });
  });

  test('not a string', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfile: [a, b]', '    run: cc'), { message: "'depfile' of rule 'cc' must be a string", line: 4, col: 14 });
  });

  test('an unknown placeholder', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfile: "{input}.d"', '    run: cc'), {
      message: "unknown placeholder '{input}' in 'depfile' of rule 'cc': only wildcards, {output}, {outputs.NAME} and {config.KEY} are allowed here",
      line: 4,
      col: 15,
    });
  });

  test('{output} of a rule with two outputs', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: [a.o, a.lst]', '    depfile: "{output}.d"', '    run: cc'), {
      message: "'{output}' in 'depfile' of rule 'cc' stands for 2 outputs: a depfile is one file; name one with {outputs.NAME}, or build the path from the wildcards",
      line: 4,
    });
  });

  test('{outputs.NAME} that is not an output', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: { obj: a.o }', '    depfile: "{outputs.ob}.d"', '    run: cc'), {
      message: "unknown placeholder '{outputs.ob}' in 'depfile' of rule 'cc': no output named 'ob' (did you mean 'obj'?)",
      line: 4,
    });
  });

  test('a wildcard the outputs do not have', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: "{name}.o"', '    depfile: "{nme}.d"', '    run: cc'), {
      message: "wildcard '{nme}' in 'depfile' of rule 'cc' does not appear in its outputs",
      line: 4,
    });
  });

  test('outside the root, absolute, or under .rules/', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfile: ../a.d', '    run: cc'), { message: "depfile '../a.d' of rule 'cc' is outside the project root", line: 4 });
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfile: /tmp/a.d', '    run: cc'), { message: "depfile '/tmp/a.d' of rule 'cc' is an absolute path", line: 4 });
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfile: .rules/a.d', '    run: cc'), { message: "depfile '.rules/a.d' of rule 'cc' is inside .rules/", line: 4 });
  });

  test('a misspelled key is suggested', () => {
    expectOnlyError(lines('rules:', '  cc:', '    outputs: a.o', '    depfiles: a.d', '    run: cc'), { message: "unknown key 'depfiles' in rule 'cc' (did you mean 'depfile'?)", line: 4 });
  });
});

describe('depfile: graph errors, naming the job and the path', () => {
  const rulefile = (depfile: string) => yaml`
    rules:
      link:
        inputs: [obj/a.o, obj/b.o, notes.txt]
        outputs: app
        log: link.log
        run: ld {inputs} -o {output}
      cc:
        inputs: "src/{name}.c"
        outputs: "obj/{name}.o"
        depfile: "${depfile}"
        run: cc -c {input} -o {output}
  `;
  const fs = () => new FakeFileSystem().write('src/a.c', 'src/b.c', 'notes.txt');

  test('a declared output (its own, or another job\'s)', () => {
    const ds = graphErrors(rulefile('{output}'), ['app'], fs());
    assert.equal(
      ds[0]!.message,
      "depfile '{output}' of rule 'cc' is 'obj/a.o' for cc[name=a], which is an output of rule 'cc': a depfile is deleted after it is read, so it must be a file of its own",
    );
    assert.equal(place(ds[0]!), 'Rulefile:10:14');
    const other = graphErrors(rulefile('app'), ['app'], fs());
    assert.match(other[0]!.message, /is 'app' for cc\[name=a\], which is an output of rule 'link'/);
  });

  test("a declared input of a job (a user's file)", () => {
    const ds = graphErrors(rulefile('notes.txt'), ['app'], fs());
    assert.match(ds[0]!.message, /^depfile 'notes\.txt' of rule 'cc' is 'notes\.txt' for cc\[name=a\], which is an input of link: /);
  });

  test('a log', () => {
    const ds = graphErrors(rulefile('link.log'), ['app'], fs());
    assert.match(ds[0]!.message, /is 'link\.log' for cc\[name=a\], which is the log of link: /);
  });

  test('the depfile of another job too', () => {
    const ds = graphErrors(rulefile('deps.d'), ['app'], fs());
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, /is 'deps\.d' for cc\[name=b\], which is the depfile of cc\[name=a\] too: /);
  });

  test('a wildcard value that takes it under .rules/, though the output is fine', () => {
    const project = yaml`
      rules:
        cc:
          inputs: "src/{name}.c"
          outputs: "out/{name,.*}.o"
          depfile: "{name}.d"
          run: cc -c {input} -o {output}
    `;
    const ds = graphErrors(project, ['out/.rules/x.o'], new FakeFileSystem().write('src/.rules/x.c'));
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.message, "depfile '{name}.d' of rule 'cc' is '.rules/x.d' for cc[name=.rules/x], which is inside .rules/, where rules keeps its state");
  });
});
