/**
 * The bounded reads a plugin call gets (PluginFiles): BoundedReader windows whose bytes are
 * counted and which are closed when the call ends, whatever the plugin did with them.
 */
import { BoundedReader } from '../../formats/bounded-reader.js';
import { ModelManagerError } from '../../errors.js';
import type { PluginFiles } from './plugin.js';

/** Most bytes one reader of a plugin may read. */
const MAX_READER_BYTES = 64 * 2 ** 20;

/** A plugin call's reads: hand `files` to the plugin, then `close()` once the call ends. */
export class PluginReads {
  readonly #readers: BoundedReader[] = [];
  #closedBytes = 0;

  readonly files: PluginFiles = {
    open: (path, { maxBytes = 16 * 2 ** 20, kind = 'model' } = {}) => {
      const reader = BoundedReader.open(path, { maxBytes: Math.min(maxBytes, MAX_READER_BYTES), kind });
      this.#readers.push(reader);
      return reader;
    },
    head: (path, maxBytes = 64 * 1024) => {
      using reader = this.files.open(path, { maxBytes });
      const bytes = Buffer.from(reader.bytes(Math.min(reader.size, maxBytes, MAX_READER_BYTES)));
      return bytes;
    },
    json: (path, maxBytes = 2 ** 20) => {
      using reader = this.files.open(path, { maxBytes, kind: 'JSON' });
      if (reader.size > maxBytes) throw reader.invalid(`it is ${reader.size} bytes, over the ${maxBytes}-byte limit`);
      const text = reader.bytes(reader.size).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new ModelManagerError('INVALID_FILE', `${path}: not valid JSON: ${(error as Error).message}`, { details: { path }, cause: error });
      }
    },
  };

  /** Bytes read so far by every reader of the call. */
  get bytesRead(): number {
    return this.#closedBytes + this.#readers.reduce((n, r) => n + r.bytesRead, 0);
  }

  /** Closes what the plugin left open. */
  close(): void {
    for (const reader of this.#readers.splice(0)) {
      this.#closedBytes += reader.bytesRead;
      reader.close();
    }
  }
}
