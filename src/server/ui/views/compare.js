// Side-by-side comparison: one column per model, rows that differ highlighted, and their
// memory estimates beside what was measured.
import { api, modelPath } from '../api.js';
import { barChart, estimateVsMeasured } from '../charts.js';
import { h } from '../dom.js';
import { bytes, count, ms } from '../format.js';

const ROWS = [
  ['Type', (m) => m.modelType.replace(/_/g, ' ')],
  ['Architecture', (m) => m.architecture || '—'],
  ['Format', (m) => m.format ?? '—'],
  ['Quantization', (m) => m.quantization ?? '—'],
  ['Parameters', (m) => count(m.parameterCount)],
  ['Attention', (m) => m.attentionType ?? '—'],
  ['Context', (m) => (m.contextLength ? count(m.contextLength) : '—')],
  ['Modalities', (m) => m.modalities.join(', ') || '—'],
  ['Inputs', (m) => m.inputs.map((i) => i.dataType).join(', ') || '—'],
  ['Outputs', (m) => m.outputs.map((o) => o.dataType).join(', ') || '—'],
  ['Memory estimate', (m) => bytes(m.memoryEstimate?.totalBytes)],
  ['Measured memory', (m) => bytes(m.measured?.memoryBytes)],
  ['Load time', (m) => ms(m.measured?.loadTimeMs)],
  ['Throughput', (m) => (m.measured?.throughput !== undefined ? `${m.measured.throughput.toFixed(1)} ${m.measured.throughputUnit ?? '/s'}` : '—')],
  ['License', (m) => m.license ?? '—'],
  ['Tags', (m) => m.tags.join(', ') || '—'],
];

function picker(ids, all) {
  const choices = all.filter((m) => !ids.includes(m.modelId));
  const sel = h('select', { 'aria-label': 'add a model', onchange: () => { if (sel.value) location.hash = `#/compare/${[...ids, sel.value].map(encodeURIComponent).join(',')}`; } },
    h('option', { value: '' }, 'add a model…'), choices.map((m) => h('option', { value: m.modelId }, m.modelId)));
  return sel;
}

export async function compareView(ids) {
  const [{ models: all }, models] = await Promise.all([api('api/models?limit=1000'), Promise.all(ids.map((id) => api(modelPath(id))))]);
  const head = h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Compare'), h('p', { class: 'muted' }, 'Pick models here or tick them in the model list.')), h('div', { class: 'actions' }, picker(ids, all)));
  if (models.length === 0) return h('section', {}, head, h('div', { class: 'card empty' }, h('h2', {}, 'Nothing to compare yet'), h('p', {}, 'Add two or more models.')));

  const qualityNames = [...new Set(models.flatMap((m) => m.qualityMetrics.map((q) => q.name)))];
  const rows = [...ROWS, ...qualityNames.map((name) => [name, (m) => String(m.qualityMetrics.find((q) => q.name === name)?.value ?? '—')])];
  const remove = (id) => { location.hash = `#/compare/${ids.filter((x) => x !== id).map(encodeURIComponent).join(',')}`; };
  const table = h('table', { class: 'compare', id: 'compare-table' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), models.map((m) => h('th', {}, h('a', { href: `#/model/${encodeURIComponent(m.modelId)}` }, m.displayName ?? m.modelId),
      h('button', { class: 'ghost small', title: 'remove from comparison', onclick: () => remove(m.modelId) }, '×'))))),
    h('tbody', {}, rows.map(([label, get]) => {
      const values = models.map(get);
      const differs = new Set(values).size > 1;
      return h('tr', { class: differs ? 'differs' : '' }, h('th', {}, label), values.map((v) => h('td', {}, v)));
    })));
  return h('section', {}, head,
    h('div', { class: 'card table-card' }, table),
    h('div', { class: 'grid two' },
      h('div', { class: 'card' }, h('h2', {}, 'Memory'), estimateVsMeasured(models.map((m) => ({ label: m.modelId, estimate: m.memoryEstimate?.totalBytes, measured: m.measured?.memoryBytes })), { format: bytes })),
      h('div', { class: 'card' }, h('h2', {}, 'Parameters'), barChart(models.map((m) => ({ label: m.modelId, value: m.parameterCount })), { format: count }))));
}
