// Simulate a raw detector frame (bias, flat or science) with noise seeded from the output file name.
import { basename } from 'node:path';
import { args, fail, number, writeFrame } from './lib.mjs';

const opts = args('--kind bias|flat|sci [--size N] [--exptime SECONDS] -o OUT', {
  kind: { type: 'string', required: true },
  size: { type: 'string' },
  exptime: { type: 'string' },
  output: { type: 'string', short: 'o', required: true },
});
if (!['bias', 'flat', 'sci'].includes(opts.kind)) fail(`--kind must be bias, flat or sci, got '${opts.kind}'`);
const size = number('size', opts.size ?? '32', 8);
if (!Number.isInteger(size) || size > 1024) fail(`--size must be a whole number from 8 to 1024, got '${opts.size}'`);
// Sky and stars collect light for the exposure time (the frames of 30 s are the reference).
const exposure = number('exptime', opts.exptime ?? '30', 1) / 30;

// Deterministic random numbers: FNV-1a hash of a seed string feeding mulberry32.
function rng(seed) {
  let h = 0x811c9dc5;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const uniform = () => {
    h = (h + 0x6d2b79f5) >>> 0;
    let t = h;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, gauss };
}

// The detector: the same bias pattern and flat field in every frame (fixed seeds).
const n = size * size;
const biasLevel = new Float64Array(n);
const flatField = new Float64Array(n);
const fixed = rng('detector');
const columnOffset = Array.from({ length: size }, () => 3 * fixed.gauss());
for (let y = 0; y < size; y++) {
  for (let x = 0; x < size; x++) {
    const r2 = ((x - size / 2) ** 2 + (y - size / 2) ** 2) / (size / 2) ** 2;
    biasLevel[y * size + x] = 100 + columnOffset[x];
    flatField[y * size + x] = (1 - 0.15 * r2) * (1 + 0.02 * fixed.gauss()); // vignetting x pixel response
  }
}

// This frame's noise and stars: seeded from the output file name, e.g. "sci_f1.txt".
const name = basename(opts.output);
const random = rng(name);
const readNoise = 5;
const signal = new Float64Array(n); // photons per pixel before the flat field
const stars = [];
if (opts.kind === 'flat') signal.fill(10000);
if (opts.kind === 'sci') {
  signal.fill(200 * exposure); // sky
  const wanted = 3 + Math.floor(random.uniform() * 4);
  for (let tries = 0; stars.length < wanted && tries < 1000; tries++) {
    const x = 4 + random.uniform() * (size - 9);
    const y = 4 + random.uniform() * (size - 9);
    const peak = (300 + random.uniform() * 2700) * exposure;
    const sigma = 1 + random.uniform() * 0.6;
    if (stars.every((s) => (s.x - x) ** 2 + (s.y - y) ** 2 >= 36)) stars.push({ x, y, peak, sigma });
  }
  for (const s of stars) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        signal[y * size + x] += s.peak * Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * s.sigma ** 2));
      }
    }
  }
}

const data = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const electrons = signal[i] * flatField[i];
  data[i] = biasLevel[i] + electrons + Math.sqrt(readNoise ** 2 + electrons) * random.gauss();
}
writeFrame(opts.output, { width: size, height: size, data });
console.log(`${opts.output}: ${size}x${size} ${opts.kind} frame${opts.kind === 'sci' ? `, ${stars.length} stars` : ''}`);
