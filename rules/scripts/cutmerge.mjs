// Merge the per-cutout fluxes of one frame (one line each) into a table with a header.
import { args, readText, writeText } from './lib.mjs';

const opts = args('CUTFLUX.csv... -o TABLE.csv', {
  output: { type: 'string', short: 'o', required: true },
}, [0, Infinity]);
const rows = ['source,flux'];
for (const path of opts.files) rows.push(readText(path).trim());
writeText(opts.output, rows.join('\n') + '\n');
console.log(`${opts.output}: ${opts.files.length} cutouts`);
