// Cut a small square around each detected source: one frame file per source in the output directory.
// How many files it writes is known only when it runs (one per line of SOURCES).
import { mkdirSync } from 'node:fs';
import { args, fail, number, readFrame, readText, writeFrame } from './lib.mjs';

const opts = args('IMAGE SOURCES --half H -o DIR', {
  half: { type: 'string', required: true },
  output: { type: 'string', short: 'o', required: true },
}, [2, 2]);
const [imagePath, sourcesPath] = opts.files;
const half = number('half', opts.half, 1);
const image = readFrame(imagePath);

const sources = readText(sourcesPath).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
mkdirSync(opts.output, { recursive: true });
sources.forEach((line, i) => {
  const [cx, cy] = line.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(cx) || !Number.isInteger(cy)) fail(`${sourcesPath}: source ${i + 1} is not a pixel: '${line}'`);
  const size = 2 * half + 1;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Pixels beyond the frame's edge repeat the edge.
      const ix = Math.min(image.width - 1, Math.max(0, cx - half + x));
      const iy = Math.min(image.height - 1, Math.max(0, cy - half + y));
      data[y * size + x] = image.data[iy * image.width + ix];
    }
  }
  writeFrame(`${opts.output}/s${String(i + 1).padStart(3, '0')}.txt`, { width: size, height: size, data });
});
console.log(`${opts.output}: ${sources.length} cutouts`);
