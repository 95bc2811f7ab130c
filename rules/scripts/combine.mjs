// Median-combine frames pixel by pixel (optionally bias-subtracted and normalized to mean 1).
import { args, fail, median, readFrame, sameShape, writeFrame } from './lib.mjs';

const opts = args('FRAME... [--bias MASTER_BIAS] [--normalize] -o OUT', {
  bias: { type: 'string' },
  normalize: { type: 'boolean' },
  output: { type: 'string', short: 'o', required: true },
}, [1, Infinity]);

const frames = opts.files.map(readFrame);
sameShape(frames, opts.files);
const { width, height } = frames[0];
const bias = opts.bias === undefined ? null : readFrame(opts.bias);
if (bias) sameShape([frames[0], bias], [opts.files[0], opts.bias]);

const data = new Float64Array(width * height);
for (let i = 0; i < data.length; i++) {
  data[i] = median(frames.map((f) => f.data[i] - (bias ? bias.data[i] : 0)));
}
let mean = data.reduce((a, b) => a + b, 0) / data.length;
if (opts.normalize) {
  if (!(mean > 0)) fail(`cannot normalize: mean after bias subtraction is ${mean.toFixed(2)}`);
  for (let i = 0; i < data.length; i++) data[i] /= mean;
  mean = 1;
}
writeFrame(opts.output, { width, height, data }, opts.normalize ? 4 : 2);
console.log(`${opts.output}: median of ${frames.length} frames, mean ${mean.toFixed(2)}`);
