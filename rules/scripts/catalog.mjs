// Merge per-frame photometry tables (phot/FRAME.csv) into one catalog with a frame column.
import { basename, extname } from 'node:path';
import { args, fail, readCsv, writeText } from './lib.mjs';

const opts = args('PHOT.csv... -o CATALOG.csv', {
  output: { type: 'string', short: 'o', required: true },
}, [1, Infinity]);

const rows = ['frame,id,x,y,flux'];
const seen = new Set();
for (const path of opts.files) {
  const frame = basename(path, extname(path));
  if (seen.has(frame)) fail(`frame '${frame}' given twice (${path})`);
  seen.add(frame);
  for (const r of readCsv(path, ['id', 'x', 'y', 'flux'])) rows.push([frame, r.id, r.x, r.y, r.flux].join(','));
}
writeText(opts.output, rows.join('\n') + '\n');
console.log(`${opts.output}: ${rows.length - 1} sources from ${opts.files.length} frames`);
