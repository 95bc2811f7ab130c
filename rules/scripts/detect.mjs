// Detect sources: local maxima more than THRESHOLD x noise above the sky background.
import { args, median, number, readFrame, writeText } from './lib.mjs';

const opts = args('IMAGE --threshold SIGMAS -o OUT', {
  threshold: { type: 'string', required: true },
  output: { type: 'string', short: 'o', required: true },
}, [1, 1]);
const threshold = number('threshold', opts.threshold, 0);
const { width, height, data } = readFrame(opts.files[0]);

// Robust sky level and noise: median and scaled median absolute deviation.
const sky = median(data);
const noise = 1.4826 * median(data.map((v) => Math.abs(v - sky)));
const cut = sky + threshold * noise;

const peaks = [];
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const v = data[y * width + x];
    if (v <= cut) continue;
    let isMax = true;
    for (let dy = -1; dy <= 1 && isMax; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if ((dx || dy) && nx >= 0 && ny >= 0 && nx < width && ny < height && data[ny * width + nx] > v) {
          isMax = false;
          break;
        }
      }
    }
    if (isMax) peaks.push({ x, y, peak: v - sky });
  }
}
// Brightest first; a peak within 3 pixels of a brighter one belongs to the same source.
peaks.sort((a, b) => b.peak - a.peak || a.y - b.y || a.x - b.x);
const sources = [];
for (const p of peaks) {
  if (sources.every((s) => (s.x - p.x) ** 2 + (s.y - p.y) ** 2 > 9)) sources.push(p);
}

const lines = ['# x y peak', ...sources.map((s) => `${s.x} ${s.y} ${s.peak.toFixed(2)}`)];
writeText(opts.output, lines.join('\n') + '\n');
console.log(`${opts.output}: ${sources.length} sources above ${threshold} sigma (sky ${sky.toFixed(1)}, noise ${noise.toFixed(1)})`);
