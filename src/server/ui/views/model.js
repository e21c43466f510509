// One model: metadata, I/O, memory estimate beside what was measured, metrics, versions with
// diff and rollback, editing, and trying it out.
import { api, apiStream, modelPath } from '../api.js';
import { estimateVsMeasured } from '../charts.js';
import { clear, h } from '../dom.js';
import { bytes, count, ms, when } from '../format.js';

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, Array.isArray(v) ? v.map((x) => h('span', { class: 'tag' }, x)) : v)]));
}

function ioTable(title, specs) {
  return h('div', {}, h('h3', {}, title), specs.length === 0 ? h('p', { class: 'muted' }, 'not described') : h('table', { class: 'compact' },
    h('thead', {}, h('tr', {}, ['Name', 'Data type', 'Shape', 'dtype', 'Description'].map((c) => h('th', {}, c)))),
    h('tbody', {}, specs.map((io) => h('tr', {}, h('td', {}, io.name, io.optional ? h('span', { class: 'muted' }, ' (optional)') : null), h('td', {}, h('span', { class: 'badge' }, io.dataType)),
      h('td', { class: 'mono' }, io.shape ? `[${io.shape.map((d) => d ?? '?').join(', ')}]` : '—'), h('td', { class: 'mono' }, io.dtype), h('td', {}, io.description || '—'))))));
}

/** Fields that differ between two records (top level; nested values compared as JSON). */
export function diffModels(a, b) {
  const skip = new Set(['updatedAt', 'createdAt']);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !skip.has(k)).sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => ({ field: k, from: a[k], to: b[k] }));
}

const show = (v) => (v === undefined ? '∅' : typeof v === 'string' ? v : JSON.stringify(v));

function memorySection(m) {
  const e = m.memoryEstimate;
  const measured = m.measured;
  const groups = [{ label: 'total memory', estimate: e?.totalBytes, measured: measured?.memoryBytes }];
  if (e) groups.push({ label: 'weights', estimate: e.weightsBytes, measured: null }, { label: `KV cache (${e.context} tokens)`, estimate: e.kvCacheBytes ?? e.kvCacheBytesPerToken * e.context * e.batch, measured: null });
  return h('div', { class: 'card' }, h('h2', {}, 'Memory: estimate and measured'),
    e || measured ? estimateVsMeasured(groups, { format: bytes }) : h('p', { class: 'muted' }, 'No estimate yet (`mm estimate`) and never loaded by the runtime.'),
    facts([
      ['estimate method', e?.method], ['dtype', e ? `${e.dtype}${e.kvDtype ? ` (KV ${e.kvDtype})` : ''}` : undefined],
      ['KV per token', e ? bytes(e.kvCacheBytesPerToken) : undefined], ['load time', measured ? ms(measured.loadTimeMs) : undefined],
      ['throughput', measured?.throughput !== undefined ? `${measured.throughput.toFixed(1)} ${measured.throughputUnit ?? '/s'}` : undefined],
      ['measured on', measured ? `${measured.device}${measured.backend ? ` · ${measured.backend}` : ''} · ${when(measured.at)}` : undefined],
    ]));
}

function metricsSection(m) {
  const perf = Object.entries(m.performanceMetrics ?? {});
  return h('div', { class: 'card' }, h('h2', {}, 'Quality and performance'),
    m.qualityMetrics.length === 0 && perf.length === 0 ? h('p', { class: 'muted' }, 'No metrics recorded (`mm metric`).') : null,
    m.qualityMetrics.length ? h('table', { class: 'compact' }, h('thead', {}, h('tr', {}, ['Benchmark', 'Score', 'Shots', 'Source'].map((c) => h('th', {}, c)))),
      h('tbody', {}, m.qualityMetrics.map((q) => h('tr', {}, h('td', {}, q.name), h('td', { class: 'num' }, String(q.value)), h('td', { class: 'num' }, q.shots ?? '—'), h('td', {}, q.source ?? '—'))))) : null,
    perf.length ? facts(perf.map(([k, v]) => [k, String(v)])) : null);
}

async function versionsSection(m, rerender) {
  const { versions } = await api(modelPath(m.modelId, 'versions'));
  const diffBox = h('div', { class: 'diff', id: 'version-diff' });
  const showDiff = async (version) => {
    const old = await api(modelPath(m.modelId, `versions/${version}`));
    const changes = diffModels(old, m);
    clear(diffBox, h('h3', {}, `Version ${version} → current`), changes.length === 0 ? h('p', { class: 'muted' }, 'identical to the current version') :
      h('table', { class: 'compact' }, h('thead', {}, h('tr', {}, h('th', {}, 'Field'), h('th', {}, `v${version}`), h('th', {}, 'current'))),
        h('tbody', {}, changes.map((c) => h('tr', {}, h('td', {}, c.field), h('td', { class: 'del mono' }, show(c.from)), h('td', { class: 'ins mono' }, show(c.to)))))));
  };
  const rollback = async (version) => {
    if (!confirm(`Make a new version equal to version ${version}?`)) return;
    await api(modelPath(m.modelId, 'rollback'), { method: 'POST', body: { version } });
    rerender();
  };
  const latest = versions[versions.length - 1]?.version;
  return h('div', { class: 'card' }, h('h2', {}, `Versions (${versions.length})`),
    h('table', { class: 'compact versions' }, h('thead', {}, h('tr', {}, ['#', 'When', 'Change', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, [...versions].reverse().map((v) => h('tr', {}, h('td', { class: 'num' }, `v${v.version}`), h('td', {}, when(v.createdAt)), h('td', {}, v.change),
        h('td', { class: 'row-actions' }, v.version === latest ? h('span', { class: 'muted' }, 'current') : [
          h('button', { class: 'ghost small', onclick: () => showDiff(v.version) }, 'diff'),
          h('button', { class: 'ghost small', onclick: () => rollback(v.version) }, 'roll back')]))))),
    diffBox);
}

function editSection(m, rerender) {
  const status = h('span', { class: 'muted' });
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    const d = new FormData(form);
    const tags = String(d.get('tags')).split(',').map((t) => t.trim()).filter(Boolean);
    try {
      await api(modelPath(m.modelId, 'metadata'), { method: 'PUT', body: { displayName: String(d.get('displayName')) || null, description: String(d.get('description')), tags } });
      if (d.get('primary')) {
        await api(modelPath(m.modelId, 'category'), { method: 'PUT', body: { primary: String(d.get('primary')), secondary: String(d.get('secondary')) || undefined, specialization: String(d.get('specialization')) || undefined } });
      }
      rerender();
    } catch (error) {
      status.textContent = error.message;
    }
  } },
  h('label', { class: 'field' }, h('span', {}, 'Display name'), h('input', { name: 'displayName', value: m.displayName ?? '' })),
  h('label', { class: 'field' }, h('span', {}, 'Tags (comma separated)'), h('input', { name: 'tags', value: m.tags.join(', ') })),
  h('label', { class: 'field wide' }, h('span', {}, 'Description'), h('textarea', { name: 'description', rows: 3 }, m.description)),
  h('label', { class: 'field' }, h('span', {}, 'Category'), h('input', { name: 'primary', placeholder: 'LANGUAGE', value: m.category?.primary ?? '' })),
  h('label', { class: 'field' }, h('span', {}, 'Secondary'), h('input', { name: 'secondary', placeholder: 'CHAT', value: m.category?.secondary ?? '' })),
  h('label', { class: 'field' }, h('span', {}, 'Specialization'), h('input', { name: 'specialization', placeholder: 'GENERAL', value: m.category?.specialization ?? '' })),
  h('div', { class: 'form-actions' }, h('button', { class: 'primary', type: 'submit' }, 'Save (new version)'), status));
  return h('details', { class: 'card' }, h('summary', {}, h('h2', { class: 'inline' }, 'Edit metadata and category')), form);
}

function trySection(m) {
  const embeds = m.modelType === 'embedding_model' || m.outputs.some((o) => o.dataType === 'EMBEDDINGS') || m.capabilities.includes('embedding');
  const out = h('pre', { class: 'output', id: 'try-output' });
  const input = h('textarea', { rows: 2, placeholder: embeds ? 'Text to embed' : 'Prompt' }, embeds ? 'The quick brown fox' : 'Once upon a time');
  const run = async () => {
    out.textContent = 'running…';
    try {
      const started = performance.now();
      if (embeds) {
        const r = await api('v1/embeddings', { method: 'POST', body: { model: m.modelId, input: input.value } });
        const v = r.data[0].embedding;
        out.textContent = `${v.length} dimensions in ${ms(performance.now() - started)}\n[${v.slice(0, 8).map((x) => x.toFixed(4)).join(', ')}, …]`;
      } else {
        const r = await api('v1/completions', { method: 'POST', body: { model: m.modelId, prompt: input.value, max_tokens: 32 } });
        out.textContent = `${input.value}${r.choices[0].text}\n\n— ${r.usage.completion_tokens} tokens in ${ms(performance.now() - started)}`;
      }
    } catch (error) {
      out.textContent = `${error.code}: ${error.message}`;
    }
  };
  return h('div', { class: 'card' }, h('h2', {}, embeds ? 'Try it: embeddings' : 'Try it: generate'), input,
    h('div', { class: 'form-actions' }, h('button', { class: 'primary', onclick: run }, 'Run'), h('span', { class: 'muted small' }, 'runs through the OpenAI-compatible API')), out);
}

/** Hub ids (`org/name`, `org/name:variant`) can be pulled; local ids (`local/...`) cannot. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*(:[\w.-]+)?$/;

/** Bytes done of all files, from a pull's NDJSON events (each file's count only grows). */
function pullMeter() {
  const files = new Map();
  let total = 0;
  return (event) => {
    if (event.status === 'pulling') total = event.total ?? 0;
    if (event.file !== undefined && event.completed !== undefined) files.set(event.file, Math.max(files.get(event.file) ?? 0, event.completed));
    const done = [...files.values()].reduce((a, b) => a + b, 0);
    return { done: Math.min(done, total || done), total };
  };
}

/** Downloads the model's files from the hub (POST /api/pull), with a progress bar, then shows the page again. */
function pullButton(m, rerender) {
  if (!HUB_ID.test(m.modelId) || m.source === 'manual') return null;
  const bar = h('progress', { id: 'pull-progress', max: 1, value: 0, hidden: true });
  const note = h('span', { class: 'muted small', id: 'pull-result' });
  const missing = !m.localPath || m.status === 'missing';
  const run = async () => {
    bar.hidden = false;
    note.textContent = 'asking the hub…';
    const meter = pullMeter();
    try {
      await apiStream('api/pull', { model: m.modelId }, (event) => {
        if (event.status === 'error') throw Object.assign(new Error(event.error.message), { code: event.error.code });
        const { done, total } = meter(event);
        if (total) {
          bar.max = total;
          bar.value = done;
          note.textContent = `${event.status} ${bytes(done)} of ${bytes(total)}`;
        }
        if (event.status === 'success') note.textContent = `pulled ${bytes(event.totalBytes)} ✓`;
      });
      rerender();
    } catch (error) {
      note.textContent = `pull failed: ${error.message}`;
    }
  };
  return [h('button', { class: missing ? 'primary' : 'ghost', id: 'pull-button', onclick: run }, missing ? 'Pull from the hub' : 'Pull again'), bar, note];
}

/** Validate (files present and readable) and test-load (load once, free), with the outcome beside them. */
function checks(m) {
  const note = h('span', { class: 'muted small', id: 'check-result' });
  const run = async (label, path, method, describe) => {
    note.textContent = `${label}…`;
    try {
      note.textContent = describe(await api(modelPath(m.modelId, path), { method }));
    } catch (error) {
      note.textContent = `${label}: ${error.message}`;
    }
  };
  return [note,
    h('button', { class: 'ghost', onclick: () => run('validating', 'validate', 'GET', (r) => (r.ok ? 'files check out ✓' : `problems: ${r.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')}`)) }, 'Validate'),
    h('button', { class: 'ghost', onclick: () => run('loading', 'test-load', 'POST', (r) => `loaded and freed in ${ms(r.loadTimeMs)} ✓`) }, 'Test load')];
}

export async function modelView(id) {
  const root = h('section', { class: 'model-page' });
  const render = async () => {
    const m = await api(modelPath(id));
    clear(root,
      h('div', { class: 'page-head' },
        h('div', {}, h('a', { href: '#/models', class: 'muted small' }, '← all models'), h('h1', {}, m.displayName ?? m.modelId),
          m.displayName ? h('p', { class: 'muted mono' }, m.modelId) : null,
          h('div', { class: 'badges' }, h('span', { class: 'badge' }, m.modelType.replace(/_/g, ' ')), m.format ? h('span', { class: `badge fmt-${m.format}` }, m.format) : null,
            m.attentionType ? h('span', { class: 'badge' }, m.attentionType.toUpperCase()) : null, h('span', { class: `badge access-${m.accessLevel}` }, m.accessLevel.replace('_', ' ')),
            m.status === 'missing' ? h('span', { class: 'badge warn' }, 'files missing') : null)),
        h('div', { class: 'actions' }, pullButton(m, render), checks(m), h('a', { class: 'button ghost', href: `#/compare/${encodeURIComponent(m.modelId)}` }, 'Compare with…'))),
      m.description ? h('p', { class: 'lead' }, m.description) : null,
      h('div', { class: 'grid two' },
        h('div', { class: 'card' }, h('h2', {}, 'Overview'), facts([
          ['architecture', m.architecture], ['parameters', count(m.parameterCount)], ['context', m.contextLength ? `${count(m.contextLength)} tokens` : undefined],
          ['quantization', m.quantization], ['category', m.category ? [m.category.primary, m.category.secondary, m.category.specialization].filter(Boolean).join(' › ') : undefined],
          ['modalities', m.modalities], ['capabilities', m.capabilities], ['languages', m.languages], ['tags', m.tags],
          ['author', m.author], ['license', m.license], ['version', m.version], ['source', m.source], ['base model', m.baseModel],
          ['local path', m.localPath ? h('span', { class: 'mono small' }, m.localPath) : undefined], ['updated', when(m.updatedAt)],
        ])),
        memorySection(m)),
      h('div', { class: 'card' }, h('h2', {}, 'Inputs and outputs'), h('div', { class: 'grid two' }, ioTable('Inputs', m.inputs), ioTable('Outputs', m.outputs))),
      h('div', { class: 'grid two' }, metricsSection(m), trySection(m)),
      await versionsSection(m, render),
      editSection(m, render));
  };
  await render();
  return root;
}
