// Follows the registry's changes as the server streams them (GET api/events, from PostgreSQL's
// LISTEN/NOTIFY), so a page shows within a second what another server wrote. fetch, not
// EventSource: only fetch can send the API key.
import { apiKey } from './api.js';

const RETRY_MS = 2000;

/** Calls `onChange` after every registry change, and after a reconnection (changes meanwhile were missed). Returns when the server cannot stream (501, 401). */
export async function followChanges(onChange) {
  let connected = false;
  for (;;) {
    try {
      const headers = { accept: 'text/event-stream' };
      const key = apiKey();
      if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch('api/events', { headers });
      if (!res.ok || !res.body) return;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = /^event: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (event === 'change' || (event === 'resync' && connected)) onChange();
          if (event === 'resync') connected = true;
        }
      }
    } catch {
      // The connection dropped: try again.
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
