/**
 * The read window of the header parsers (and of discovery plugins): its byte budget is exact, and
 * a closed reader reads nothing more.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BoundedReader } from '../../src/formats/bounded-reader.js';
import { isModelManagerError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

test('a header that fits the budget is read, though the reader would read ahead further', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'file.bin');
  writeFileSync(path, Buffer.alloc(1024 * 1024, 1));
  using small = BoundedReader.open(path, { maxBytes: 4096 });
  assert.equal(small.bytes(4096).length, 4096);
  assert.equal(small.bytesRead, 4096);
  assert.throws(() => small.bytes(1), /read limit/);

  // Chunks grow 16, 32, 64 KiB: the third stops at the budget rather than past it.
  using grown = BoundedReader.open(path, { maxBytes: 100 * 1024 });
  for (let i = 0; i < 100; i++) grown.bytes(1024);
  assert.equal(grown.bytesRead, 100 * 1024);
});

test('a closed reader refuses to read (its descriptor may belong to another file by then)', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'file.bin');
  writeFileSync(path, Buffer.alloc(64, 1));
  const reader = BoundedReader.open(path);
  reader.close();
  assert.throws(() => reader.bytes(1), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /read after the reader was closed/.test(e.message));
});
