// Aperture photometry: centroid and background-subtracted flux of each detected source.
import { args, fail, median, number, readFrame, readText, writeText } from './lib.mjs';

const opts = args('IMAGE SOURCES --aperture RADIUS [--frame NAME] -o TABLE.csv [--regions OUT.reg]', {
  aperture: { type: 'string', required: true },
  frame: { type: 'string' },
  output: { type: 'string', short: 'o', required: true },
  regions: { type: 'string' },
}, [2, 2]);
const [imagePath, sourcesPath] = opts.files;
const radius = number('aperture', opts.aperture, 0.5);
const { width, height, data } = readFrame(imagePath);

const sources = readText(sourcesPath).split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((line, i) => {
    const [x, y] = line.trim().split(/\s+/).map(Number);
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
      fail(`${sourcesPath}: source ${i + 1} is not a pixel of ${imagePath}: '${line}'`);
    }
    return { x, y };
  });

/** Pixels whose distance d from (cx, cy) satisfies lo <= d <= hi. */
function pixels(cx, cy, lo, hi) {
  const out = [];
  for (let y = Math.max(0, Math.floor(cy - hi)); y <= Math.min(height - 1, Math.ceil(cy + hi)); y++) {
    for (let x = Math.max(0, Math.floor(cx - hi)); x <= Math.min(width - 1, Math.ceil(cx + hi)); x++) {
      const d = Math.hypot(x - cx, y - cy);
      if (d >= lo && d <= hi) out.push({ x, y, v: data[y * width + x] });
    }
  }
  return out;
}

const globalSky = median(data);
const rows = ['id,x,y,flux'];
const regions = ['# Region file format: DS9 version 4.1', 'image'];
sources.forEach(({ x, y }, i) => {
  const annulus = pixels(x, y, radius + 2, radius + 5).map((p) => p.v);
  const sky = annulus.length >= 5 ? median(annulus) : globalSky;
  let flux = 0, wx = 0, wy = 0, w = 0;
  for (const p of pixels(x, y, 0, radius)) {
    const s = p.v - sky;
    flux += s;
    if (s > 0) { wx += s * p.x; wy += s * p.y; w += s; }
  }
  const cx = w > 0 ? wx / w : x;
  const cy = w > 0 ? wy / w : y;
  rows.push(`${i + 1},${cx.toFixed(2)},${cy.toFixed(2)},${flux.toFixed(1)}`);
  // DS9 pixel coordinates start at 1.
  regions.push(`circle(${(cx + 1).toFixed(2)},${(cy + 1).toFixed(2)},${radius}) # text={${opts.frame ?? ''}${opts.frame ? '-' : ''}${i + 1}}`);
});

writeText(opts.output, rows.join('\n') + '\n');
if (opts.regions) writeText(opts.regions, regions.join('\n') + '\n');
console.log(`${opts.output}: ${sources.length} sources measured${opts.frame ? ` in frame ${opts.frame}` : ''} (aperture ${radius} px)`);
