/**
 * The progress bar of a pull on a terminal (bytes, rate, ETA), on stderr; nothing when stderr is
 * not a TTY or the command prints JSON. Shared by `mm pull` and the commands that pull on first use.
 */
import cliProgress from 'cli-progress';
import type { PullProgress } from '../hub/index.js';
import { formatBytes } from '../units.js';

export interface PullProgressBar {
  onProgress(event: PullProgress): void;
  stop(): void;
}

/** A bar that follows a pull's events; it only moves forward. */
export function pullProgressBar({ enabled, label }: { enabled: boolean; label: string }): PullProgressBar {
  if (!enabled) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} {bar} {percentage}% | {done} / {all} | {rate}/s | ETA {eta_formatted}`,
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const files = new Map<string, number>();
  let total = 0;
  let shown = 0;
  let started = 0;
  let startedAt = 0;
  const stop = () => {
    if (started) bar.stop();
    started = 0;
  };
  return {
    stop,
    onProgress(event) {
      if (event.status === 'pulling') {
        total = event.total ?? 0;
        startedAt = Date.now();
        bar.start(Math.max(total, 1), 0, { done: formatBytes(0), all: formatBytes(total), rate: formatBytes(0) });
        started = 1;
        return;
      }
      if (event.status === 'success') return stop();
      if (!started || event.file === undefined || event.completed === undefined) return;
      files.set(event.file, Math.max(files.get(event.file) ?? 0, event.completed));
      const now = [...files.values()].reduce((a, b) => a + b, 0);
      if (now < shown) return;
      shown = now;
      const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
      bar.update(Math.min(now, total), { done: formatBytes(now), all: formatBytes(total), rate: formatBytes(now / seconds) });
    },
  };
}
