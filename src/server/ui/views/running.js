// Loaded models, with release, and the machine's memory.
import { ApiError, api, modelPath } from '../api.js';
import { clear, h } from '../dom.js';
import { bytes, when } from '../format.js';

export async function runningView() {
  const root = h('section', {});
  const render = async () => {
    const resources = await api('api/system/resources');
    let ps;
    try {
      ps = await api('api/ps');
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'NOT_ENABLED')) throw error;
    }
    const used = resources.memory.totalBytes - resources.memory.freeBytes;
    const pct = Math.round((used / resources.memory.totalBytes) * 100);
    const release = async (name) => {
      await api(modelPath(name, 'release'), { method: 'POST', body: {} });
      await render();
    };
    clear(root,
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Running'), h('p', { class: 'muted' }, `${resources.cpu.cores} cores · ${resources.cpu.model}`)),
        h('div', { class: 'actions' }, h('button', { class: 'ghost', onclick: render }, 'Refresh'))),
      h('div', { class: 'card' }, h('h2', {}, 'Memory'),
        h('div', { class: 'meter', role: 'meter', 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: 'meter-fill', style: `width:${pct}%` })),
        h('p', { class: 'muted' }, `${bytes(used)} used of ${bytes(resources.memory.totalBytes)}${resources.runtime ? ` · models hold ${bytes(resources.runtime.loadedBytes)}` : ''}`)),
      !ps ? h('div', { class: 'card empty' }, h('h2', {}, 'The runtime is off'), h('p', {}, 'This server was started without a runtime.'))
        : ps.models.length === 0 ? h('div', { class: 'card empty' }, h('h2', {}, 'No model is loaded'), h('p', {}, 'Models load on first use and leave after their keep-alive.'))
          : h('div', { class: 'card table-card' }, h('table', { class: 'compact', id: 'ps-table' },
            h('thead', {}, h('tr', {}, ['Model', 'Backend', 'Device', 'Size', 'Workers', 'In use', 'Queue', 'Expires', ''].map((c) => h('th', {}, c)))),
            h('tbody', {}, ps.models.map((m) => h('tr', {}, h('td', {}, h('a', { href: `#/model/${encodeURIComponent(m.model)}` }, m.name)), h('td', {}, m.backend), h('td', {}, m.device),
              h('td', { class: 'num' }, bytes(m.size)), h('td', { class: 'num' }, m.workers), h('td', { class: 'num' }, m.refs), h('td', { class: 'num' }, m.queue),
              h('td', {}, m.expires_at ? when(m.expires_at) : m.refs > 0 ? 'in use' : 'kept until released'), h('td', {}, h('button', { class: 'ghost small', onclick: () => release(m.model) }, 'release'))))))));
  };
  await render();
  return root;
}
