// Small SVG charts: horizontal bars, and estimate-beside-measured pairs.
import { s } from './dom.js';

const PALETTE = ['#4f46e5', '#0891b2', '#16a34a', '#ca8a04', '#db2777', '#7c3aed', '#ea580c', '#0d9488'];

/**
 * Horizontal bars, one per item, labelled and valued. `log` spreads values that span
 * orders of magnitude (parameter counts from 20M to 70B) so small ones stay visible.
 */
export function barChart(items, { format = String, log = false, width = 720, title = '' } = {}) {
  const rows = items.filter((i) => Number.isFinite(i.value) && i.value > 0);
  const bar = 18;
  const gap = 8;
  const labelWidth = 230;
  const valueWidth = 70;
  const height = Math.max(1, rows.length) * (bar + gap) + 8;
  const scale = log ? (v) => Math.log10(v + 1) : (v) => v;
  const max = Math.max(...rows.map((r) => scale(r.value)), 1e-9);
  const min = log ? Math.min(...rows.map((r) => scale(r.value))) * 0.9 : 0;
  const plot = width - labelWidth - valueWidth;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, class: 'chart', role: 'img', 'aria-label': title || 'bar chart' });
  if (rows.length === 0) svg.append(s('text', { x: 8, y: 16, class: 'muted' }, 'nothing to plot yet'));
  rows.forEach((r, i) => {
    const y = 4 + i * (bar + gap);
    const w = Math.max(2, ((scale(r.value) - min) / Math.max(max - min, 1e-9)) * plot);
    svg.append(
      s('text', { x: labelWidth - 8, y: y + bar - 5, 'text-anchor': 'end', class: 'chart-label' }, truncate(r.label, 34)),
      s('rect', { x: labelWidth, y, width: w, height: bar, rx: 4, fill: r.color ?? PALETTE[i % PALETTE.length] }, s('title', {}, `${r.label}: ${format(r.value)}`)),
      s('text', { x: labelWidth + w + 6, y: y + bar - 5, class: 'chart-value' }, format(r.value)),
    );
  });
  return svg;
}

/** Pairs of bars per group: the estimate (light) beside what was measured (solid). */
export function estimateVsMeasured(groups, { format = String, width = 680, title = 'estimate vs measured' } = {}) {
  const rows = groups.filter((g) => Number.isFinite(g.estimate) || Number.isFinite(g.measured));
  const bar = 14;
  const labelWidth = 230;
  const plot = width - labelWidth - 90;
  const max = Math.max(...rows.flatMap((g) => [g.estimate ?? 0, g.measured ?? 0]), 1);
  const height = Math.max(1, rows.length) * (bar * 2 + 14) + 30;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, class: 'chart', role: 'img', 'aria-label': title });
  rows.forEach((g, i) => {
    const y = 6 + i * (bar * 2 + 14);
    svg.append(s('text', { x: labelWidth - 8, y: y + bar + 4, 'text-anchor': 'end', class: 'chart-label' }, truncate(g.label, 32)));
    [['estimate', g.estimate, '#a5b4fc'], ['measured', g.measured, '#4f46e5']].forEach(([kind, v, color], k) => {
      const yy = y + k * bar;
      if (v === null) return; // not applicable (e.g. nothing measures the KV cache alone)
      if (!Number.isFinite(v)) {
        svg.append(s('text', { x: labelWidth + 4, y: yy + bar - 3, class: 'chart-value muted' }, `no ${kind}`));
        return;
      }
      const w = Math.max(2, (v / max) * plot);
      svg.append(
        s('rect', { x: labelWidth, y: yy, width: w, height: bar - 2, rx: 3, fill: color }, s('title', {}, `${kind}: ${format(v)}`)),
        s('text', { x: labelWidth + w + 6, y: yy + bar - 3, class: 'chart-value' }, format(v)),
      );
    });
  });
  const ly = height - 12;
  svg.append(
    s('rect', { x: labelWidth, y: ly - 9, width: 10, height: 10, rx: 2, fill: '#a5b4fc' }),
    s('text', { x: labelWidth + 14, y: ly, class: 'chart-value' }, 'estimate'),
    s('rect', { x: labelWidth + 90, y: ly - 9, width: 10, height: 10, rx: 2, fill: '#4f46e5' }),
    s('text', { x: labelWidth + 104, y: ly, class: 'chart-value' }, 'measured'),
  );
  return svg;
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
