// The model list: search, filters (kept in the URL), a size chart, and picking models to compare.
import { api } from '../api.js';
import { barChart } from '../charts.js';
import { h } from '../dom.js';
import { bytes, count } from '../format.js';

const TYPES = ['language_model', 'decoder_only', 'encoder_only', 'encoder_decoder', 'embedding_model', 'vision_model', 'audio_model', 'multimodal'];
const MODALITIES = ['text', 'image', 'audio', 'video'];
const FORMATS = ['gguf', 'onnx', 'safetensors', 'pytorch', 'ggml'];
const ATTENTION = ['mha', 'gqa', 'mqa', 'mla'];
const SIZES = { '': 'any size', small: 'under 1B', mid: '1B – 10B', large: 'over 10B' };
const SIZE_QUERY = { small: { maxParams: '1B' }, mid: { minParams: '1B', maxParams: '10B' }, large: { minParams: '10B' } };

function select(name, label, options, value) {
  return h('label', { class: 'field' }, h('span', {}, label),
    h('select', { name }, h('option', { value: '' }, 'any'), ...options.map((o) => h('option', { value: o, selected: o === value ? 'selected' : undefined }, o.replace(/_/g, ' ')))));
}

export async function modelsView(params) {
  const q = params.get('q') ?? '';
  const query = new URLSearchParams();
  for (const key of ['type', 'modality', 'format', 'attention']) if (params.get(key)) query.set(key, params.get(key));
  for (const [k, v] of Object.entries(SIZE_QUERY[params.get('size') ?? ''] ?? {})) query.set(k, v);
  let fits = params.get('fits') ?? '';
  if (params.get('fitsHere') === '1') {
    const resources = await api('api/system/resources');
    fits = String(resources.memory.totalBytes);
  }
  if (fits) query.set('fits', fits);

  const [list, search] = await Promise.all([
    api(`api/models?${query}`),
    q ? api(`api/search?${new URLSearchParams({ q, limit: '500' })}`) : null,
  ]);
  let models = list.models;
  if (search) {
    const byId = new Map(models.map((m) => [m.modelId, m]));
    models = search.hits.map((hit) => byId.get(hit.model.modelId)).filter(Boolean);
  }

  const selected = new Set();
  const compareButton = h('button', { class: 'primary', disabled: true, onclick: () => { location.hash = `#/compare/${[...selected].map(encodeURIComponent).join(',')}`; } }, 'Compare');
  const updateCompare = () => {
    compareButton.disabled = selected.size < 2;
    compareButton.textContent = selected.size ? `Compare ${selected.size}` : 'Compare';
  };

  const form = h('form', { class: 'filters card', id: 'filters', onsubmit: (e) => { e.preventDefault(); apply(form); }, onchange: () => apply(form) },
    h('label', { class: 'field grow' }, h('span', {}, 'Search'), h('input', { name: 'q', type: 'search', placeholder: 'name, tag or description…', value: q })),
    select('type', 'Type', TYPES, params.get('type')),
    select('modality', 'Modality', MODALITIES, params.get('modality')),
    select('format', 'Format', FORMATS, params.get('format')),
    select('attention', 'Attention', ATTENTION, params.get('attention')),
    h('label', { class: 'field' }, h('span', {}, 'Size'),
      h('select', { name: 'size' }, ...Object.entries(SIZES).map(([v, t]) => h('option', { value: v, selected: v === (params.get('size') ?? '') ? 'selected' : undefined }, t)))),
    h('label', { class: 'field' }, h('span', {}, 'Fits in'), h('input', { name: 'fits', placeholder: 'e.g. 16GB', value: params.get('fits') ?? '', size: 8 })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'fitsHere', value: '1', checked: params.get('fitsHere') === '1' }), 'fits this machine'),
  );

  const rows = models.map((m) => h('tr', {},
    h('td', {}, h('input', { type: 'checkbox', 'aria-label': `select ${m.modelId}`, onchange: (e) => { e.target.checked ? selected.add(m.modelId) : selected.delete(m.modelId); updateCompare(); } })),
    h('td', {}, h('a', { href: `#/model/${encodeURIComponent(m.modelId)}`, class: 'model-link' }, m.displayName ?? m.modelId), m.displayName ? h('div', { class: 'muted small' }, m.modelId) : null),
    h('td', {}, h('span', { class: 'badge' }, m.modelType.replace(/_/g, ' '))),
    h('td', {}, m.architecture || '—'),
    h('td', {}, m.format ? h('span', { class: `badge fmt-${m.format}` }, m.format) : '—'),
    h('td', { class: 'num' }, count(m.parameterCount)),
    h('td', {}, m.attentionType ?? '—'),
    h('td', { class: 'num' }, bytes(m.memoryEstimate?.totalBytes)),
    h('td', { class: 'num' }, bytes(m.measured?.memoryBytes)),
    h('td', {}, m.tags.slice(0, 4).map((t) => h('span', { class: 'tag' }, t))),
  ));

  const chartModels = models.filter((m) => m.parameterCount).sort((a, b) => b.parameterCount - a.parameterCount).slice(0, 12);
  return h('section', {},
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Models'), h('p', { class: 'muted' }, `${models.length} shown of ${list.total} matching the filters`)),
      h('div', { class: 'actions' }, compareButton)),
    form,
    models.length === 0
      ? h('div', { class: 'card empty' }, h('h2', {}, 'No models match'), h('p', {}, 'Loosen the filters, or register models with `mm import`, `mm scan` or the Discovery page.'))
      : h('div', { class: 'card table-card' }, h('table', { class: 'models', id: 'model-table' },
        h('thead', {}, h('tr', {}, ['', 'Model', 'Type', 'Architecture', 'Format', 'Params', 'Attention', 'Estimate', 'Measured', 'Tags'].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows))),
    chartModels.length > 1 ? h('div', { class: 'card' }, h('h2', {}, 'Parameter sizes'), barChart(chartModels.map((m) => ({ label: m.modelId, value: m.parameterCount })), { format: count, log: true, title: 'parameter sizes' })) : null,
  );
}

function apply(form) {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const [k, v] of data) if (v) params.set(k, v);
  const next = `#/models${params.size ? `?${params}` : ''}`;
  if (location.hash !== next) location.hash = next;
}
