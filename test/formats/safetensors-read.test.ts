import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeSafetensorsHeader, isModelManagerError, readSafetensorsCounts, readSafetensorsHeader } from '../../src/index.js';
import { summarizeCanonicalHeader } from '../../src/formats/safetensors-canonical.js';
import { tempDir } from '../helpers/tmp.js';
import { llamaSafetensors, writeSafetensors, writeSparse } from '../discovery/formats-writer.js';

const counts = (h: { parameterCount: number; parametersByDtype: Record<string, number>; dataBytes: number }) => [h.parameterCount, h.parametersByDtype, h.dataBytes];

test('the scan reader counts what the shared reader counts, for canonical and other header layouts', async () => {
  using dir = tempDir();
  const canonical = join(dir.path, 'a.safetensors');
  writeSafetensors(canonical, { ...llamaSafetensors({ layers: 3 }), scalar: { dtype: 'F32', shape: [] }, 'odd "name"': { dtype: 'I8', shape: [3, 5] } });
  assert.deepEqual(counts(readSafetensorsCounts(canonical)), counts(await readSafetensorsHeader(canonical)));

  const withMetadata = join(dir.path, 'b.safetensors');
  const { header, dataBytes } = encodeSafetensorsHeader({ w: { dtype: 'BF16', shape: [4, 4] } }, { format: 'pt', note: 'a "quoted" value' });
  writeSparse(withMetadata, [header, dataBytes]);
  assert.deepEqual(counts(readSafetensorsCounts(withMetadata)), [16, { BF16: 16 }, 32]);

  // Pretty-printed JSON is not the canonical layout: the exact parser reads it.
  const pretty = join(dir.path, 'c.safetensors');
  const json = Buffer.from(JSON.stringify({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] } }, null, 2));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeSparse(pretty, [length, json, 12]);
  assert.deepEqual(counts(readSafetensorsCounts(pretty)), [6, { F16: 6 }, 12]);

  // The fast path takes the canonical layouts and leaves the rest to the exact parser.
  const plain = encodeSafetensorsHeader({ w: { dtype: 'BF16', shape: [4, 4] } }, { format: 'pt' });
  assert.equal(summarizeCanonicalHeader(plain.header.subarray(8), plain.dataBytes)?.parameterCount, 16);
  assert.equal(summarizeCanonicalHeader(header.subarray(8), dataBytes), undefined, 'escapes (the quoted metadata) go to the exact parser');
  assert.equal(summarizeCanonicalHeader(json, 12), undefined);
  assert.equal(summarizeCanonicalHeader(Buffer.from('{"w":{"dtype":"F16","shape":[1,,2],"data_offsets":[0,4]}}'), 4), undefined);
  for (const odd of ['{"w":{"dtype":"F16","shape":[2,],"data_offsets":[0,4]}}', '{"w":{"dtype":"F17","shape":[2],"data_offsets":[0,4]}}', '{"__metadata__":{"a":"b",},"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', '{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}x']) {
    assert.equal(summarizeCanonicalHeader(Buffer.from(odd), 4), undefined, odd);
  }
  // Escapes go to the exact parser, which also refuses the invalid ones.
  assert.equal(summarizeCanonicalHeader(Buffer.from('{"w\\"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}'), 4), undefined);
  const badEscape = join(dir.path, 'escape.safetensors');
  const text = Buffer.from('{"w\\q":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  writeSparse(badEscape, [prefix, text, 4]);
  assert.throws(() => readSafetensorsCounts(badEscape), (e: unknown) => isModelManagerError(e, 'INVALID_FILE') && /not JSON/.test(e.message));
});

test('lying canonical headers are refused with the shared reader\'s reasons', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'lie.safetensors');
  const { header } = encodeSafetensorsHeader({ w: { dtype: 'F32', shape: [1000] } });
  writeFileSync(path, Buffer.concat([header, Buffer.alloc(10)]));
  assert.throws(() => readSafetensorsCounts(path), (e: unknown) => isModelManagerError(e, 'INVALID_FILE') && /truncated or lying/.test(e.message));
  const wrong = Buffer.from(header.toString('latin1').replace('[0,4000]', '[0,4004]'), 'latin1');
  writeSparse(path, [wrong, 4004]);
  assert.throws(() => readSafetensorsCounts(path), (e: unknown) => isModelManagerError(e, 'INVALID_FILE') && /declares 1000 F32 values but 4004 bytes/.test(e.message));
});

test('the scan reader stops at the page that holds the header\'s end, never reading into the weights', () => {
  using dir = tempDir();
  for (const layers of [1, 20, 60]) {
    const path = join(dir.path, `m${layers}.safetensors`);
    writeSafetensors(path, llamaSafetensors({ layers, hidden: 4096, ff: 11008, vocab: 32000 }));
    const h = readSafetensorsCounts(path);
    // Reading weights right after a cached header makes Linux read ahead megabytes of them.
    assert.ok(h.bytesRead <= Math.ceil((8 + h.headerBytes) / 4096) * 4096, `${layers} layers: read ${h.bytesRead} bytes of a ${8 + h.headerBytes}-byte header`);
    assert.ok(h.bytesRead >= 8 + h.headerBytes);
  }
});
