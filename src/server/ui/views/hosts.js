// The servers sharing this registry: each host's devices and memory, and the models it has loaded.
import { api } from '../api.js';
import { clear, h } from '../dom.js';
import { bytes, when } from '../format.js';

const REFRESH_MS = 5000;

function age(ms) {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)} min ago`;
}

function hostCard(host, self) {
  const { memory, devices, memoryBudgetBytes } = host.info;
  const used = memory.totalBytes - memory.freeBytes;
  const pct = Math.round((used / memory.totalBytes) * 100);
  const loadedBytes = host.models.reduce((n, m) => n + m.sizeBytes, 0);
  return h('div', { class: `card host host-${host.status}`, dataset: { host: host.hostId } },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h2', { class: 'inline' }, host.hostId), ' ',
        h('span', { class: `badge ${host.status === 'live' ? 'status-live' : 'status-gone'}` }, host.status === 'live' ? 'live' : `gone · last heard ${age(host.heartbeatAgeMs)}`),
        self ? h('span', { class: 'badge' }, 'this host') : null,
        h('p', { class: 'muted small' }, host.url ? h('a', { href: host.url, target: '_blank', rel: 'noopener' }, host.url) : null,
          ` · Model Manager ${host.version} · up since ${when(host.startedAt)}`)),
    ),
    h('div', { class: 'grid two' },
      h('div', {}, h('h3', {}, 'Devices'),
        h('ul', { class: 'devices' }, devices.map((d) => h('li', {}, h('span', { class: 'badge' }, d.kind), ' ', d.name,
          d.cores ? h('span', { class: 'muted' }, ` · ${d.cores} cores`) : null, d.memoryBytes ? h('span', { class: 'muted' }, ` · ${bytes(d.memoryBytes)}`) : null)))),
      h('div', {}, h('h3', {}, 'Memory'),
        h('div', { class: 'meter', role: 'meter', 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: 'meter-fill', style: `width:${pct}%` })),
        h('p', { class: 'muted small' }, `${bytes(used)} used of ${bytes(memory.totalBytes)} · models hold ${bytes(loadedBytes)}`,
          memoryBudgetBytes ? ` of a ${bytes(memoryBudgetBytes)} budget` : ''))),
    host.models.length === 0
      ? h('p', { class: 'muted' }, host.status === 'live' ? 'No model loaded.' : 'What it had loaded is no longer known.')
      : h('table', { class: 'compact loaded' },
        h('thead', {}, h('tr', {}, ['Model', 'Backend', 'Device', 'Workers', 'Size', 'Last used'].map((c) => h('th', {}, c)))),
        h('tbody', {}, host.models.map((m) => h('tr', {},
          h('td', {}, h('a', { href: `#/model/${encodeURIComponent(m.model)}` }, m.name)), h('td', {}, m.backend), h('td', {}, m.device),
          h('td', { class: 'num' }, m.workers), h('td', { class: 'num' }, bytes(m.sizeBytes)), h('td', {}, when(m.lastUsedAt)))))));
}

export async function hostsView() {
  const root = h('section', { class: 'hosts-page' });
  const render = async () => {
    const cluster = await api('api/cluster');
    const live = cluster.hosts.filter((x) => x.status === 'live').length;
    clear(root,
      h('div', { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Hosts'),
          h('p', { class: 'muted' }, cluster.shared
            ? `${live} of ${cluster.hosts.length} servers live on this registry · gone after three missed heartbeats`
            : 'This registry is not shared: only this server is listed. Servers on one PostgreSQL registry (MM_DB=postgres://…) list each other here.')),
        h('div', { class: 'actions' }, h('button', { class: 'ghost', onclick: render }, 'Refresh'))),
      cluster.hosts.length === 0 ? h('div', { class: 'card empty' }, h('h2', {}, 'No server is registered')) : null,
      cluster.hosts.map((host) => hostCard(host, host.hostId === cluster.hostId)));
  };
  await render();
  // Heartbeats and loads are no registry writes: the page asks again while it is shown.
  const timer = setInterval(() => {
    if (!root.isConnected) clearInterval(timer);
    else render().catch(() => undefined);
  }, REFRESH_MS);
  return root;
}
