// The web UI: a hash router over a few views, and the API key field.
import { ApiError, apiKey, onApiError, setApiKey } from './api.js';
import { clear, h } from './dom.js';
import { compareView } from './views/compare.js';
import { followChanges } from './live.js';
import { discoveryView } from './views/discovery.js';
import { hostsView } from './views/hosts.js';
import { modelView } from './views/model.js';
import { modelsView } from './views/models.js';
import { runningView } from './views/running.js';

const view = document.getElementById('view');
const banner = document.getElementById('banner');
const keyInput = document.getElementById('api-key');

/** Routes: `#/models`, `#/model/<id>`, `#/compare/<id>,<id>`, `#/discovery`, `#/running`, `#/hosts`. */
const ROUTES = [
  [/^#\/model\/(.+)$/, (m) => modelView(decodeURIComponent(m[1])), 'models'],
  [/^#\/compare(?:\/(.*))?$/, (m) => compareView((m[1] ?? '').split(',').filter(Boolean).map(decodeURIComponent)), 'compare'],
  [/^#\/discovery$/, () => discoveryView(), 'discovery'],
  [/^#\/running$/, () => runningView(), 'running'],
  [/^#\/hosts$/, () => hostsView(), 'hosts'],
  [/^#\/models(?:\?(.*))?$/, (m) => modelsView(new URLSearchParams(m[1] ?? '')), 'models'],
];

export function showBanner(text, kind = 'error') {
  banner.hidden = !text;
  banner.className = `banner ${kind}`;
  clear(banner, text ?? '');
}

/** Shows the view the location names; `quiet` keeps the current one on screen until the new one is ready. */
async function render({ quiet = false } = {}) {
  const hash = location.hash || '#/models';
  showBanner('');
  const route = ROUTES.find(([re]) => re.test(hash)) ?? ROUTES[ROUTES.length - 1];
  const match = hash.match(route[0]) ?? [];
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === route[2]);
  if (!quiet) clear(view, h('div', { class: 'loading' }, 'Loading…'));
  try {
    const content = await route[1](match);
    clear(view, content);
  } catch (error) {
    clear(view, h('div', { class: 'card empty' }, h('h2', {}, error instanceof ApiError ? error.code : 'Something went wrong'), h('p', {}, error.message)));
  }
}

onApiError((error) => {
  if (error.status === 401) {
    showBanner('This server needs an API key: paste yours in the field at the top right.', 'warn');
    keyInput.focus();
  }
});

document.getElementById('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keyInput.value = '';
  keyInput.placeholder = apiKey() ? 'key saved ✓' : 'API key';
  render();
  follow();
});
keyInput.placeholder = apiKey() ? 'key saved ✓' : 'API key';

/** Shows registry changes made elsewhere on the model list, once no field of it is being edited. */
function refreshModels() {
  if (!/^(#\/models|$)/.test(location.hash)) return;
  const editing = document.activeElement?.closest('input, select, textarea');
  if (editing) editing.addEventListener('blur', refreshModels, { once: true });
  else render({ quiet: true });
}

let pending;
let following = false;
/** Follows the registry's changes, unless already following (again once a key is given, if the server wanted one). */
function follow() {
  if (following) return;
  following = true;
  followChanges(() => {
    clearTimeout(pending);
    pending = setTimeout(refreshModels, 200);
  }).finally(() => (following = false));
}
follow();

window.addEventListener('hashchange', () => render());
render();
