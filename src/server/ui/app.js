// The web UI: a hash router over a few views, and the API key field.
import { ApiError, apiKey, onApiError, setApiKey } from './api.js';
import { clear, h } from './dom.js';
import { compareView } from './views/compare.js';
import { discoveryView } from './views/discovery.js';
import { modelView } from './views/model.js';
import { modelsView } from './views/models.js';
import { runningView } from './views/running.js';

const view = document.getElementById('view');
const banner = document.getElementById('banner');
const keyInput = document.getElementById('api-key');

/** Routes: `#/models`, `#/model/<id>`, `#/compare/<id>,<id>`, `#/discovery`, `#/running`. */
const ROUTES = [
  [/^#\/model\/(.+)$/, (m) => modelView(decodeURIComponent(m[1])), 'models'],
  [/^#\/compare(?:\/(.*))?$/, (m) => compareView((m[1] ?? '').split(',').filter(Boolean).map(decodeURIComponent)), 'compare'],
  [/^#\/discovery$/, () => discoveryView(), 'discovery'],
  [/^#\/running$/, () => runningView(), 'running'],
  [/^#\/models(?:\?(.*))?$/, (m) => modelsView(new URLSearchParams(m[1] ?? '')), 'models'],
];

export function showBanner(text, kind = 'error') {
  banner.hidden = !text;
  banner.className = `banner ${kind}`;
  clear(banner, text ?? '');
}

async function render() {
  const hash = location.hash || '#/models';
  showBanner('');
  const route = ROUTES.find(([re]) => re.test(hash)) ?? ROUTES[ROUTES.length - 1];
  const match = hash.match(route[0]) ?? [];
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === route[2]);
  clear(view, h('div', { class: 'loading' }, 'Loading…'));
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
});
keyInput.placeholder = apiKey() ? 'key saved ✓' : 'API key';

window.addEventListener('hashchange', render);
render();
