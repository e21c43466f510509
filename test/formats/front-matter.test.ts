import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelCard } from '../../src/index.js';
import { readReadme } from '../../src/discovery/side-files.js';
import { parseFlatFrontMatter } from '../../src/formats/front-matter.js';
import { tempDir } from '../helpers/tmp.js';

test('flat front matter reads as YAML reads it; anything else is left to YAML', () => {
  const flat = [
    'license: apache-2.0\ntags: [text-generation, chat]\npipeline_tag: text-generation',
    'language:\n- en\n- fr\nlicense: llama2\nbase_model: meta-llama/Llama-2-7b-hf\ntags:\n  - facebook\n  - llama-2',
    'library_name: transformers\ndatasets:\npipeline_tag: fill-mask',
    'tags: []\nlicense: mit',
  ];
  for (const text of flat) assert.deepEqual(parseFlatFrontMatter(text), YAML.parse(text), text);
  const other = [
    'version: 1.0', 'inference: false\nflag: yes', 'model-index:\n- name: x\n  results: []', 'title: "quoted: value"', 'widget:\n  - text: hi',
    'description: >\n  folded', 'a: b # comment',
  ];
  for (const text of other) assert.equal(parseFlatFrontMatter(text), undefined, text);
});

test('a README found on disk reads as the same card the Hugging Face import reads', () => {
  using dir = tempDir();
  const readmes = [
    '---\nlicense: mit\ntags: [chat]\n---  \n# Title\n\n[!NOTE] a callout, not prose\n\nThe model. ' + 'Long text. '.repeat(80),
    '\uFEFF---\r\nlanguage:\r\n- en\r\n---\r\n\n----\n\nAfter a rule.',
    '---\nlicense: [unclosed\n---\nSome words.',
  ];
  for (const [i, text] of readmes.entries()) {
    const path = join(dir.path, `README-${i}.md`);
    writeFileSync(path, text);
    const warnings: string[] = [];
    const found = readReadme(path, { bytes: 0, warn: (_p, reason) => warnings.push(reason) })!;
    const card = parseModelCard(text);
    assert.equal(found.summary, card.summary, text);
    assert.deepEqual([found.frontMatter.tags ?? [], found.frontMatter.license], [card.tags, card.license], text);
    assert.equal(warnings.length > 0, card.warning !== undefined, text);
  }
});
