/**
 * A read window over one file for header parsers: it reads only the bytes a parser asks for
 * (in growing chunks while reading forwards, small ones after a jump), counts every byte it
 * read, and refuses to read more than a budget. Header readers of untrusted files use it so a
 * lying length can cost at most the budget, never the whole file.
 *
 * The reads are synchronous preads, and so is the API: a header is a handful of small reads,
 * mostly from the page cache, a few microseconds each. Through the libuv thread pool each cost
 * 50-300 microseconds on a busy machine, which dominated a scan of 10,000 models; and with an
 * await per read (an ONNX graph takes ~100 reads, one per weight) the ONNX reader took ~40% more
 * CPU, the GGUF and safetensors readers 10-20% more. Callers that must not block (a server) read
 * headers in a worker thread (see discovery/describe-pool.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ModelManagerError } from '../errors.js';

export interface BoundedReaderOptions {
  /** Most bytes the reader may read from the file in all. Defaults to 64 MiB. */
  maxBytes?: number;
  /** First chunk, and the chunk after a jump; chunks double while reading forwards. Defaults to 16 KiB. */
  initialChunk?: number;
  /** Largest chunk (so reading past the header's end wastes at most this much). Defaults to 256 KiB. */
  maxChunk?: number;
  /** What the file is said to be, for messages (e.g. `GGUF`). Defaults to `model`. */
  kind?: string;
}

/**
 * Read buffers handed from one reader to the next in this thread. A fresh buffer per window
 * meant fresh memory for the kernel to fault in during every read: in a process whose heap had
 * been through other work first, that made a 10,000-model scan's reads ~3x slower (0.87 vs
 * 0.26 s on the main thread, measured). Windows up to SPARE_BYTES live in a spare; larger ones
 * are allocated as before.
 */
const spares: Buffer[] = [];
const SPARE_BYTES = 256 * 1024;
const MAX_SPARES = 4;

function takeBuffer(length: number): Buffer {
  return length <= SPARE_BYTES ? (spares.pop() ?? Buffer.allocUnsafe(SPARE_BYTES)) : Buffer.allocUnsafe(length);
}

function giveBack(buffer: Buffer | undefined): void {
  if (buffer?.length === SPARE_BYTES && spares.length < MAX_SPARES) spares.push(buffer);
}

/** The page size `readAheadEnd` rounds to (4 KiB on x86-64 and most arm64 Linux; a larger page only rounds less). */
const PAGE = 4096;

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
/** Linux only; 0 where the platform has no such flag. */
const NOATIME = constants.O_NOATIME ?? 0;

/**
 * Opens a file to read its header: O_NONBLOCK, so a FIFO named like a model does not wait for a
 * writer, and on Linux O_NOATIME, so reading a header leaves the file's access time alone. A
 * scan must not make every model look recently used (cache cleaners, and `huggingface-cli
 * scan-cache`'s "last accessed", go by atime); and with `relatime` the first read of a file
 * in a day writes its inode, which made a cold scan of 10,000 folders spend ~3 s more in the
 * kernel. O_NOATIME is refused (EPERM) on files of other users: those are opened without it.
 * @throws the open's error (ENOENT, EACCES, ...)
 */
export function openForReading(path: string): number {
  if (NOATIME !== 0) {
    try {
      return openSync(path, READ_FLAGS | NOATIME);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
  return openSync(path, READ_FLAGS);
}

/** A file's size and modification time, as `fstat` saw it when its reader closed it. */
export interface ReadStat {
  size: number;
  mtimeMs: number;
}

/** The files closed by `closeAfterReading` in this thread while `watchReads` runs. */
let watched: Map<string, ReadStat> | undefined;

/**
 * Closes a file opened with `openForReading`; inside `watchReads`, first notes its size and
 * mtime (an `fstat` on the open file, cheaper than a second `stat` by path).
 */
export function closeAfterReading(fd: number, path: string): void {
  try {
    if (watched) {
      const { size, mtimeMs } = fstatSync(fd);
      watched.set(path, { size, mtimeMs });
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `read` (synchronous header reads) and returns what it returned with the size and mtime of
 * every file it read, taken after the read: a caller compares them with what it saw before, to
 * tell a file that changed while it was read.
 */
export function watchReads<T>(read: () => T): { result: T; stats: Map<string, ReadStat> } {
  const outer = watched;
  const stats = new Map<string, ReadStat>();
  watched = stats;
  try {
    return { result: read(), stats };
  } finally {
    watched = outer;
    if (outer) for (const [path, stat] of stats) outer.set(path, stat);
  }
}

export class BoundedReader implements Disposable {
  readonly path: string;
  readonly size: number;
  /** Where the parser is, in file bytes. */
  pos = 0;
  /** Bytes read from the file so far. */
  bytesRead = 0;
  /**
   * A lower bound of where the header ends, set by a parser that knows one: chunks stop at the
   * end of the 4 KiB page holding it (unless a request needs more), so the last read of a
   * header does not run into pages of weights. Reading weights that are not in the page cache
   * right after a cached header makes Linux read ahead twice the cached length, up to the
   * device's read_ahead_kb (8 MiB on our VMs): 1.3 MB of weights per GGUF file with a 576 KiB
   * header, measured. Ending on a page boundary keeps the geometric tail of reads short.
   */
  readAheadEnd = Infinity;
  readonly #fd: number;
  readonly #maxBytes: number;
  readonly #initialChunk: number;
  readonly #maxChunk: number;
  readonly #kind: string;
  #chunk: number;
  #window: Buffer = Buffer.alloc(0);
  /** The buffer the window is a view of (a spare, given back when the window moves on or the reader closes). */
  #backing: Buffer | undefined;
  #windowStart = 0;

  #closed = false;

  private constructor(path: string, fd: number, size: number, options: Required<BoundedReaderOptions>) {
    this.path = path;
    this.#fd = fd;
    this.size = size;
    this.#maxBytes = options.maxBytes;
    this.#initialChunk = options.initialChunk;
    this.#maxChunk = options.maxChunk;
    this.#kind = options.kind;
    this.#chunk = options.initialChunk;
  }

  /** Opens a regular file. @throws FILE_NOT_FOUND when it cannot be opened, INVALID_FILE when it is not a regular file. */
  static open(path: string, { maxBytes = 64 * 2 ** 20, initialChunk = 16 * 1024, maxChunk = 256 * 1024, kind = 'model' }: BoundedReaderOptions = {}): BoundedReader {
    let fd: number;
    try {
      fd = openForReading(path);
    } catch (error) {
      throw new ModelManagerError('FILE_NOT_FOUND', `cannot open ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new ModelManagerError('INVALID_FILE', `${path} is not a regular file`, { details: { path, reason: 'not a regular file' } });
      return new BoundedReader(path, fd, stat.size, { maxBytes, initialChunk, maxChunk, kind });
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** An INVALID_FILE error naming this file and the reason. */
  invalid(reason: string, details: Record<string, unknown> = {}): ModelManagerError {
    return new ModelManagerError('INVALID_FILE', `${this.path}: not a valid ${this.#kind} file: ${reason}`, {
      details: { path: this.path, reason, ...details },
    });
  }

  get remaining(): number {
    return this.size - this.pos;
  }

  /** Makes `n` bytes from `pos` readable; refuses reads past the end or over the budget. */
  ensure(n: number): void {
    // Its descriptor may belong to another file by now.
    if (this.#closed) throw new ModelManagerError('INVALID_ARGUMENT', `${this.path}: read after the reader was closed`, { details: { path: this.path } });
    if (n > this.remaining) throw this.invalid(`it ends at byte ${this.size} but the header needs ${this.pos + n} (truncated or lying header)`);
    const windowEnd = this.#windowStart + this.#window.length;
    if (this.pos >= this.#windowStart && this.pos + n <= windowEnd) return;
    // Reading on (or past a gap shorter than a chunk: small records skipped) grows the chunk;
    // after a jump (over weights) the next read starts small again.
    const forwards = this.pos >= this.#windowStart && this.pos <= windowEnd + this.#chunk;
    this.#chunk = forwards ? Math.min(this.#chunk * 2, this.#maxChunk) : this.#initialChunk;
    const pageEnd = Math.ceil(this.readAheadEnd / PAGE) * PAGE;
    // Bytes of the old window past `pos` are kept rather than read again.
    const have = this.pos >= this.#windowStart && windowEnd > this.pos ? windowEnd - this.pos : 0;
    const readAhead = Math.min(Math.max(n, Math.min(this.#chunk, pageEnd - this.pos)), this.remaining);
    // Reading ahead never spends budget the request itself leaves: a header that fits the budget is read.
    const length = Math.max(n, Math.min(readAhead, have + this.#maxBytes - this.bytesRead));
    const want = length - have;
    if (this.bytesRead + want > this.#maxBytes) {
      throw this.invalid(`its header needs more than the ${this.#maxBytes}-byte read limit`, { limit: this.#maxBytes });
    }
    const backing = takeBuffer(length);
    const next = backing.subarray(0, length);
    if (have > 0) this.#window.copy(next, 0, this.pos - this.#windowStart);
    let bytesRead: number;
    try {
      bytesRead = readSync(this.#fd, next, have, want, this.pos + have);
    } catch (error) {
      giveBack(backing);
      throw error;
    }
    this.bytesRead += bytesRead;
    giveBack(this.#backing);
    this.#backing = backing;
    this.#window = next;
    this.#windowStart = this.pos;
    if (bytesRead !== want) throw this.invalid('the file got shorter while it was being read');
  }

  /** The next `n` bytes (a view into the window: copy it to keep it). */
  bytes(n: number): Buffer {
    this.ensure(n);
    const start = this.pos - this.#windowStart;
    this.pos += n;
    return this.#window.subarray(start, start + n);
  }

  /**
   * The window's bytes from `pos` on, for parsers that scan many small records without a call
   * per record; call `skip` with what they consumed.
   */
  buffered(): Buffer {
    const start = this.pos - this.#windowStart;
    return start >= 0 && start < this.#window.length ? this.#window.subarray(start) : Buffer.alloc(0);
  }

  /**
   * The window itself and the file offset of its first byte, for parsers that decode many tiny
   * records in place (`window[pos - windowStart]` is the byte at `pos` when it lies inside):
   * no view is made per record. Read-only; valid until the next read.
   */
  get window(): Buffer {
    return this.#window;
  }

  get windowStart(): number {
    return this.#windowStart;
  }

  /** Moves past `n` bytes without reading them. */
  skip(n: number): void {
    if (n > this.remaining) throw this.invalid(`a field of ${n} bytes runs past the end of the ${this.size}-byte file (truncated or lying header)`);
    this.pos += n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    giveBack(this.#backing);
    this.#backing = undefined;
    this.#window = Buffer.alloc(0);
    closeAfterReading(this.#fd, this.path);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
