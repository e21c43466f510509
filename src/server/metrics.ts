/**
 * Prometheus metrics of the server, in the text exposition format (version 0.0.4).
 *
 * Request counts and a latency histogram are kept here; runtime gauges (queue depth, loaded
 * models, cache hits) are read from the ModelManager when scraped, so they are never stale.
 * Routes are labelled by their template (`/api/models/:id`), which keeps label sets bounded.
 */

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** One sample of a gauge or counter read at scrape time. */
export interface Sample {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: number;
  labels?: Record<string, string>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export class ServerMetrics {
  readonly #requests = new Map<string, { labels: Record<string, string>; value: number }>();
  readonly #latency = new Map<string, { labels: Record<string, string>; h: Histogram }>();
  #inFlight = 0;

  requestStarted(): void {
    this.#inFlight += 1;
  }

  /** Records a finished request; without `seconds` (an aborted one) it is counted but not timed. */
  requestFinished(method: string, route: string, status: number, seconds?: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    const labels = { method, route, status: String(status) };
    const key = `${method} ${route} ${status}`;
    const counter = this.#requests.get(key) ?? { labels, value: 0 };
    counter.value += 1;
    this.#requests.set(key, counter);
    if (seconds === undefined) return;
    const hKey = `${method} ${route}`;
    const entry = this.#latency.get(hKey) ?? { labels: { method, route }, h: { counts: BUCKETS.map(() => 0), sum: 0, count: 0 } };
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) entry.h.counts[i]! += 1;
    });
    entry.h.sum += seconds;
    entry.h.count += 1;
    this.#latency.set(hKey, entry);
  }

  /** The exposition text, with the samples read at scrape time appended. */
  render(samples: readonly Sample[] = []): string {
    const lines: string[] = [
      '# HELP mm_http_requests_total HTTP requests served, by method, route and status.',
      '# TYPE mm_http_requests_total counter',
      ...[...this.#requests.values()].map((c) => `mm_http_requests_total${labelText(c.labels)} ${c.value}`),
      '# HELP mm_http_request_duration_seconds Time to answer an HTTP request.',
      '# TYPE mm_http_request_duration_seconds histogram',
    ];
    for (const { labels, h } of this.#latency.values()) {
      BUCKETS.forEach((bound, i) => lines.push(`mm_http_request_duration_seconds_bucket${labelText({ ...labels, le: String(bound) })} ${h.counts[i]}`));
      lines.push(`mm_http_request_duration_seconds_bucket${labelText({ ...labels, le: '+Inf' })} ${h.count}`);
      lines.push(`mm_http_request_duration_seconds_sum${labelText(labels)} ${h.sum}`);
      lines.push(`mm_http_request_duration_seconds_count${labelText(labels)} ${h.count}`);
    }
    lines.push('# HELP mm_http_requests_in_flight HTTP requests being answered now.', '# TYPE mm_http_requests_in_flight gauge', `mm_http_requests_in_flight ${this.#inFlight}`);
    const described = new Set<string>();
    for (const s of samples) {
      if (!described.has(s.name)) {
        lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
        described.add(s.name);
      }
      lines.push(`${s.name}${labelText(s.labels ?? {})} ${s.value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
