// Shared helpers for the example pipeline's scripts: arguments, errors and the frame text format.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';

const SCRIPT = basename(process.argv[1] ?? 'script');

/** Print "SCRIPT: message" to stderr and exit with status 1. */
export function fail(message) {
  console.error(`${SCRIPT}: ${message}`);
  process.exit(1);
}

/**
 * Parse process.argv with node:util parseArgs. `options` maps long names to
 * { type, short?, required? }; `positionals` is [min, max] (max may be Infinity).
 * Bad usage exits non-zero with the usage line.
 */
export function args(usage, options, [min, max] = [0, 0]) {
  const spec = {};
  for (const [name, o] of Object.entries(options)) spec[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  let parsed;
  try {
    parsed = parseArgs({ options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    fail(`${err.message}\nusage: ${SCRIPT} ${usage}`);
  }
  const { values, positionals } = parsed;
  for (const [name, o] of Object.entries(options)) {
    if (o.required && values[name] === undefined) fail(`missing --${name}\nusage: ${SCRIPT} ${usage}`);
  }
  if (positionals.length < min || positionals.length > max) {
    fail(`expected ${min === max ? min : `${min}${max === Infinity ? ' or more' : `-${max}`}`} file argument(s), got ${positionals.length}\nusage: ${SCRIPT} ${usage}`);
  }
  return { ...values, files: positionals };
}

/** Parse a number option, failing unless it is finite and >= min. */
export function number(name, text, min = -Infinity) {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(n) || n < min) {
    fail(`--${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}, got '${text}'`);
  }
  return n;
}

/** Read a whole text file, failing with a clear message if it cannot be read. */
export function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/** Write a whole file in one call (creating its directory), so a reader never sees half of it. */
export function writeText(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/**
 * A frame is a text file: a header line "# WIDTH HEIGHT", then HEIGHT rows of
 * WIDTH space-separated numbers. Returns { width, height, data: Float64Array }.
 */
export function readFrame(path) {
  const lines = readText(path).split('\n').filter((l) => l.trim() !== '');
  const header = /^#\s*(\d+)\s+(\d+)\s*$/.exec(lines[0] ?? '');
  if (!header) fail(`${path}: not a frame (first line must be '# WIDTH HEIGHT')`);
  const width = Number(header[1]);
  const height = Number(header[2]);
  if (width < 1 || height < 1) fail(`${path}: empty frame ${width}x${height}`);
  if (lines.length - 1 !== height) fail(`${path}: expected ${height} rows, found ${lines.length - 1}`);
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const cells = lines[y + 1].trim().split(/\s+/);
    if (cells.length !== width) fail(`${path}:${y + 2}: expected ${width} values, found ${cells.length}`);
    for (let x = 0; x < width; x++) {
      const v = Number(cells[x]);
      if (!Number.isFinite(v)) fail(`${path}:${y + 2}: not a number: '${cells[x]}'`);
      data[y * width + x] = v;
    }
  }
  return { width, height, data };
}

/** Write a frame with a fixed number of decimals (one write). */
export function writeFrame(path, { width, height, data }, decimals = 2) {
  const rows = [`# ${width} ${height}`];
  for (let y = 0; y < height; y++) {
    const row = [];
    for (let x = 0; x < width; x++) row.push(data[y * width + x].toFixed(decimals));
    rows.push(row.join(' '));
  }
  writeText(path, rows.join('\n') + '\n');
}

/** Fail unless every frame has the same size as the first. */
export function sameShape(frames, paths) {
  const [first] = frames;
  frames.forEach((f, i) => {
    if (f.width !== first.width || f.height !== first.height) {
      fail(`${paths[i]} is ${f.width}x${f.height} but ${paths[0]} is ${first.width}x${first.height}`);
    }
  });
}

/** Median of an array of numbers (does not modify it). */
export function median(values) {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Read a small CSV with a header row into an array of objects; `columns` must all be present. */
export function readCsv(path, columns) {
  const lines = readText(path).split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) fail(`${path}: empty file (expected a header row)`);
  const header = lines[0].split(',');
  for (const c of columns) if (!header.includes(c)) fail(`${path}: missing column '${c}' (header: ${lines[0]})`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length) fail(`${path}:${i + 2}: expected ${header.length} fields, found ${cells.length}`);
    return Object.fromEntries(header.map((h, j) => [h, cells[j]]));
  });
}
