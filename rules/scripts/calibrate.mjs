// Calibrate a science frame: (raw - master bias) / master flat.
import { args, fail, readFrame, sameShape, writeFrame } from './lib.mjs';

const opts = args('RAW --bias MASTER_BIAS --flat MASTER_FLAT -o OUT', {
  bias: { type: 'string', required: true },
  flat: { type: 'string', required: true },
  output: { type: 'string', short: 'o', required: true },
}, [1, 1]);

const paths = [opts.files[0], opts.bias, opts.flat];
const [raw, bias, flat] = paths.map(readFrame);
sameShape([raw, bias, flat], paths);

const data = new Float64Array(raw.data.length);
for (let i = 0; i < data.length; i++) {
  if (!(flat.data[i] > 0)) fail(`${opts.flat}: flat value ${flat.data[i]} at pixel ${i} is not positive`);
  data[i] = (raw.data[i] - bias.data[i]) / flat.data[i];
}
writeFrame(opts.output, { width: raw.width, height: raw.height, data });
console.log(`${opts.output}: ${data.length} pixels`);
