// Discovery: what was scanned, when, with what result; a refresh button; the scan log.
import { ApiError, api } from '../api.js';
import { clear, h } from '../dom.js';
import { ms, when } from '../format.js';

export async function discoveryView() {
  const root = h('section', {});
  const render = async () => {
    let status;
    try {
      status = await api('api/models/discovery/status');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'NOT_ENABLED') {
        clear(root, h('h1', {}, 'Discovery'), h('div', { class: 'card empty' }, h('h2', {}, 'Discovery is off'), h('p', {}, error.message)));
        return;
      }
      throw error;
    }
    const [{ logs }, discovered] = await Promise.all([api('api/models/discovery/logs?limit=200'), api('api/models/discovered')]);
    const last = status.lastScan;
    const message = h('span', { class: 'muted' });
    const refresh = h('button', { class: 'primary', id: 'refresh', disabled: status.running, onclick: async () => {
      refresh.disabled = true;
      refresh.textContent = 'Scanning…';
      try {
        const report = await api('api/models/discovery/refresh', { method: 'POST', body: {} });
        message.textContent = `scanned ${report.counts.scanned}, added ${report.counts.added}, updated ${report.counts.updated}`;
        await render();
      } catch (error) {
        message.textContent = error.message;
        refresh.disabled = false;
        refresh.textContent = 'Refresh now';
      }
    } }, status.running ? 'Scanning…' : 'Refresh now');
    const stat = (label, value) => h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, String(value)), h('div', { class: 'stat-label' }, label));
    clear(root,
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Discovery'), h('p', { class: 'muted' }, `${discovered.count} models found on disk`)), h('div', { class: 'actions' }, message, refresh)),
      h('div', { class: 'card' }, h('h2', {}, 'Last scan'), last ? h('div', { class: 'stats' },
        stat('scanned', last.counts.scanned), stat('added', last.counts.added), stat('updated', last.counts.updated), stat('unchanged', last.counts.unchanged),
        stat('missing', last.counts.missing), stat('warnings', last.counts.warnings)) : h('p', { class: 'muted' }, 'No scan yet.'),
        h('dl', { class: 'facts' }, h('dt', {}, 'finished'), h('dd', {}, last ? `${when(last.finishedAt)} (${ms(last.durationMs)})` : '—'),
          h('dt', {}, 'next scan'), h('dd', {}, when(status.nextScanAt)), h('dt', {}, 'roots'), h('dd', {}, status.roots.map((r) => h('div', { class: 'mono small' }, r))))),
      h('div', { class: 'card table-card' }, h('h2', {}, 'Scan log'), logs.length === 0 ? h('p', { class: 'muted' }, 'Empty.') : h('table', { class: 'compact', id: 'scan-log' },
        h('thead', {}, h('tr', {}, ['When', 'Level', 'Path', 'Message'].map((c) => h('th', {}, c)))),
        h('tbody', {}, logs.map((l) => h('tr', { class: `log-${l.level}` }, h('td', {}, when(l.at)), h('td', {}, h('span', { class: `badge level-${l.level}` }, l.level)),
          h('td', { class: 'mono small' }, l.path ?? ''), h('td', {}, l.message)))))));
  };
  await render();
  return root;
}
