// Writes one synthetic pipeline three ways (Rulefile, Makefile, build.ninja)
// so rules, GNU Make and Ninja can be compared on the same graph.
//
//   pipeline: N sources -> 3 pattern stages -> summaries of 100 -> final.txt
//   wide:     N independent jobs, one per source
//
// Usage: node dist/test/bench/gen.js --size N [--shape pipeline|wide] --dir DIR

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Shape = 'pipeline' | 'wide';

const GROUP = 100;

function sourceName(k: number): string {
  return `g${String(Math.floor(k / GROUP)).padStart(5, '0')}_${String(k % GROUP).padStart(2, '0')}`;
}

export function generate(dir: string, size: number, shape: Shape): { jobs: number; sources: number } {
  mkdirSync(join(dir, 'src'), { recursive: true });
  const names: string[] = [];
  for (let k = 0; k < size; k++) {
    const name = sourceName(k);
    names.push(name);
    writeFileSync(join(dir, 'src', `${name}.txt`), `${name}\n`);
  }
  if (shape === 'wide') {
    writeWide(dir, names);
    return { jobs: size, sources: size };
  }
  const groups = [...new Set(names.map((n) => n.slice(0, 6)))];
  writePipeline(dir, names, groups);
  return { jobs: 3 * size + groups.length + 1, sources: size };
}

function writeWide(dir: string, names: string[]): void {
  writeFileSync(
    join(dir, 'Rulefile'),
    [
      'rules:',
      '  all:',
      '    inputs:',
      '      - expand: "out/{x}.txt"',
      '        x: { glob: "src/{x}.txt" }',
      '  copy:',
      '    inputs: "src/{x}.txt"',
      '    outputs: "out/{x}.txt"',
      '    run: cp {input} {output}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'Makefile'),
    ['SRCS := $(wildcard src/*.txt)', 'all: $(patsubst src/%.txt,out/%.txt,$(SRCS))', 'out/%.txt: src/%.txt', '\tmkdir -p out && cp $< $@', '.PHONY: all', ''].join('\n'),
  );
  let ninja = 'rule cp\n  command = cp $in $out\n\n';
  for (const n of names) ninja += `build out/${n}.txt: cp src/${n}.txt\n`;
  ninja += `build all: phony ${names.map((n) => `out/${n}.txt`).join(' ')}\ndefault all\n`;
  writeFileSync(join(dir, 'build.ninja'), ninja);
}

function writePipeline(dir: string, names: string[], groups: string[]): void {
  const members = Array.from({ length: GROUP }, (_, i) => String(i).padStart(2, '0'));
  writeFileSync(
    join(dir, 'Rulefile'),
    [
      'config:',
      `  groups: [${groups.join(', ')}]`,
      `  members: [${members.map((m) => `"${m}"`).join(', ')}]`,
      'default: all',
      'rules:',
      '  all:',
      '    inputs: final.txt',
      '  final:',
      '    inputs:',
      '      - expand: "sum/{g}.txt"',
      '        g: { config: groups }',
      '    outputs: final.txt',
      '    run: cat {input} > {output}',
      '  summary:',
      '    inputs:',
      '      - expand: "s3/{g}_{m}.txt"',
      '        m: { config: members }',
      '    outputs: "sum/{g}.txt"',
      '    run: cat {input} > {output}',
      '  stage3:',
      '    inputs: "s2/{x}.txt"',
      '    outputs: "s3/{x}.txt"',
      '    run: cp {input} {output}',
      '  stage2:',
      '    inputs: "s1/{x}.txt"',
      '    outputs: "s2/{x}.txt"',
      '    run: cp {input} {output}',
      '  stage1:',
      '    inputs: "src/{x}.txt"',
      '    outputs: "s1/{x}.txt"',
      '    run: cp {input} {output}',
      '',
    ].join('\n'),
  );
  const make = [
    `GROUPS := ${groups.join(' ')}`,
    `MEMBERS := ${members.join(' ')}`,
    'all: final.txt',
    'final.txt: $(patsubst %,sum/%.txt,$(GROUPS))',
    '\tcat $^ > $@',
    'sum/%.txt: $(foreach m,$(MEMBERS),s3/%_$(m).txt)',
    '\tmkdir -p sum && cat $^ > $@',
    's3/%.txt: s2/%.txt',
    '\tmkdir -p s3 && cp $< $@',
    's2/%.txt: s1/%.txt',
    '\tmkdir -p s2 && cp $< $@',
    's1/%.txt: src/%.txt',
    '\tmkdir -p s1 && cp $< $@',
    '.PHONY: all',
    '.SECONDARY:',
    '',
  ];
  // `foreach` inside a pattern prerequisite is expanded before `%`: keep the stem literal.
  make[5] = `sum/%.txt: ${members.map((m) => `s3/%_${m}.txt`).join(' ')}`;
  // The Makefile's job count is the number of recipe lines it echoes.
  writeFileSync(join(dir, 'Makefile'), make.join('\n'));
  let ninja = 'rule cp\n  command = cp $in $out\nrule cat\n  command = cat $in > $out\n\n';
  for (const n of names) {
    ninja += `build s1/${n}.txt: cp src/${n}.txt\nbuild s2/${n}.txt: cp s1/${n}.txt\nbuild s3/${n}.txt: cp s2/${n}.txt\n`;
  }
  for (const g of groups) ninja += `build sum/${g}.txt: cat ${members.map((m) => `s3/${g}_${m}.txt`).join(' ')}\n`;
  ninja += `build final.txt: cat ${groups.map((g) => `sum/${g}.txt`).join(' ')}\nbuild all: phony final.txt\ndefault all\n`;
  writeFileSync(join(dir, 'build.ninja'), ninja);
}

function main(): void {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = Number(get('--size') ?? '1000');
  const shape = (get('--shape') ?? 'pipeline') as Shape;
  const dir = get('--dir');
  if (!dir || !Number.isInteger(size) || size < 1 || (shape !== 'pipeline' && shape !== 'wide')) {
    console.error('usage: gen --size N [--shape pipeline|wide] --dir DIR');
    process.exit(2);
  }
  const r = generate(dir, size, shape);
  console.log(`${dir}: ${shape}, ${r.sources} sources, ${r.jobs} jobs`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, 'dist/'))) main();
