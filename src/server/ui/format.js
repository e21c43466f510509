// Numbers as people read them.

export function bytes(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function count(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  const units = [['T', 1e12], ['B', 1e9], ['M', 1e6], ['K', 1e3]];
  for (const [suffix, scale] of units) if (Math.abs(n) >= scale) return `${(n / scale).toFixed(n / scale >= 100 ? 0 : 1).replace(/\.0$/, '')}${suffix}`;
  return String(n);
}

export function ms(n) {
  if (n === undefined || n === null) return '—';
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "7B", "500M", "16GB" -> number (the server takes the same forms). */
export function parseQuantity(text) {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kmgtb]?)i?b?\s*$/i.exec(text ?? '');
  if (!m) return undefined;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, b: 1e9, t: 1e12 }[m[2].toLowerCase()];
  return Number(m[1]) * scale;
}
