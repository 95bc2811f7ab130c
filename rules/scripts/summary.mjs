// Plot-like text summary of a catalog: sources per frame and a bar chart of their fluxes.
import { args, fail, readCsv, writeText } from './lib.mjs';

const opts = args('CATALOG.csv -o OUT', {
  output: { type: 'string', short: 'o', required: true },
}, [1, 1]);
const rows = readCsv(opts.files[0], ['frame', 'id', 'flux']);

const frames = new Map(); // frame -> fluxes, in catalog order
for (const r of rows) {
  const flux = Number(r.flux);
  if (!Number.isFinite(flux)) fail(`${opts.files[0]}: bad flux '${r.flux}' (frame ${r.frame}, id ${r.id})`);
  if (!frames.has(r.frame)) frames.set(r.frame, []);
  frames.get(r.frame).push(flux);
}
const brightest = Math.max(1, ...rows.map((r) => Number(r.flux)));
const bar = (flux) => '#'.repeat(Math.max(0, Math.round((40 * flux) / brightest)));

const lines = [`catalog summary: ${rows.length} sources in ${frames.size} frames (bar = flux, # = ${(brightest / 40).toFixed(1)})`];
for (const [frame, fluxes] of frames) {
  lines.push('', `${frame}: ${fluxes.length} sources`);
  fluxes.forEach((f, i) => lines.push(`  ${String(i + 1).padStart(3)} ${f.toFixed(1).padStart(9)} ${bar(f)}`));
}
writeText(opts.output, lines.join('\n') + '\n');
console.log(`${opts.output}: ${rows.length} sources in ${frames.size} frames`);
