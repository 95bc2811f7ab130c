// The flux of one cutout: the sum over its central pixels above the median of its border.
import { basename, extname } from 'node:path';
import { args, median, number, readFrame, writeText } from './lib.mjs';

const opts = args('CUTOUT --radius R -o OUT.csv', {
  radius: { type: 'string', required: true },
  output: { type: 'string', short: 'o', required: true },
}, [1, 1]);
const [path] = opts.files;
const radius = number('radius', opts.radius, 0.5);
const { width, height, data } = readFrame(path);
const border = [];
for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (x === 0 || y === 0 || x === width - 1 || y === height - 1) border.push(data[y * width + x]);
const sky = median(border);
let flux = 0;
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) if (Math.hypot(x - (width - 1) / 2, y - (height - 1) / 2) <= radius) flux += data[y * width + x] - sky;
}
writeText(opts.output, `${basename(path, extname(path))},${flux.toFixed(1)}\n`);
