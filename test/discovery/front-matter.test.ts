import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { parseFlatFrontMatter } from '../../src/discovery/side-files.js';

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
