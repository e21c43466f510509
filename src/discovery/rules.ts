/**
 * Categorisation rules (`model_categorization.json`, the seed's format) and the categoriser:
 * keywords, file patterns and modalities score each category; the best primary wins, the best
 * secondary and specialization win when anything matched.
 *
 * The categoriser runs on the main thread (`describeFindings`), but header reader threads load
 * this module with describe.ts, so it stays light: reading and checking a rules file
 * (`rules-file.ts`, with zod) happens apart, once.
 */
import picomatch from 'picomatch';
import type { ModelCategory } from '../registry/index.js';

/** One category's rule: keywords, file patterns and required modalities (TEXT, IMAGE, AUDIO, VIDEO). */
export interface CategoryRule {
  keywords: string[];
  file_patterns: string[];
  /** The model must have all of these (TEXT, IMAGE, AUDIO, VIDEO). */
  modalities: string[];
}
export type CategorizationRules = { primary_category: Record<string, CategoryRule>; secondary_category: Record<string, CategoryRule>; specialization: Record<string, CategoryRule> };

const rule = (keywords: string[], extra: Partial<CategoryRule> = {}): CategoryRule => ({ keywords, file_patterns: [], modalities: [], ...extra });

/** The rules shipped: the seed's, completed with the categories it names but leaves empty. */
export const DEFAULT_CATEGORIZATION_RULES: CategorizationRules = {
  primary_category: {
    LANGUAGE: rule(['text', 'language', 'nlp', 'gpt', 'llama', 'bert', 'mistral', 'qwen', 'phi', 'gemma', 'falcon', 't5'], {
      file_patterns: ['*.safetensors', 'tokenizer.json'],
      modalities: ['TEXT'],
    }),
    VISION: rule(['vision', 'image', 'visual', 'clip', 'vit', 'resnet', 'yolo', 'detr', 'segformer', 'stable-diffusion'], { modalities: ['IMAGE'] }),
    AUDIO: rule(['audio', 'speech', 'whisper', 'wav2vec', 'hubert', 'tts', 'asr', 'musicgen'], { modalities: ['AUDIO'] }),
    MULTIMODAL: rule(['multimodal', 'vision-language', 'flamingo', 'llava', 'blip', 'idefics', 'mmproj', 'vlm'], { modalities: ['TEXT', 'IMAGE'] }),
  },
  secondary_category: {
    CHAT: rule(['chat', 'instruct', 'conversation', 'assistant']),
    CODE: rule(['code', 'programming', 'codellama', 'starcoder', 'coder', 'codegen']),
    REASONING: rule(['reasoning', 'logic', 'math', 'problem-solving', 'r1', 'think']),
    CREATIVE: rule(['creative', 'story', 'writing', 'poet', 'roleplay']),
    ANALYSIS: rule(['analysis', 'classification', 'sentiment', 'embedding', 'retrieval', 'rerank', 'ner', 'summariz']),
  },
  specialization: {
    MEDICAL: rule(['medical', 'clinical', 'biomed', 'biogpt', 'pubmed', 'med-', 'health', 'radiology']),
    LEGAL: rule(['legal', 'law', 'contract', 'court']),
    SCIENTIFIC: rule(['scientific', 'science', 'scibert', 'chem', 'physics', 'galactica', 'arxiv']),
    TECHNICAL: rule(['technical', 'engineering', 'devops', 'sql', 'api']),
    FINANCIAL: rule(['finance', 'financial', 'finbert', 'fintech', 'bloomberg']),
  },
};

/** What the categoriser looks at. */
export interface CategoryEvidence {
  /** Names, path parts, architecture, tags, pipeline tag, description: anything keywords may hit. */
  text: string[];
  fileNames: string[];
  /** Modalities in lower case (text, image, audio, video). */
  modalities: string[];
  capabilities: string[];
}

/** A rule made ready to score: keyword tests and a file matcher, built once per rules object. */
interface CompiledRule {
  name: string;
  keywords: ((haystack: string) => boolean)[];
  files?: (name: string) => boolean;
  modalities: string[];
}

/** Short keywords must start a word (`vit` is not in `activity`); longer ones may sit anywhere (`llama` in `codellama`). */
function keywordTest(raw: string): (haystack: string) => boolean {
  const k = raw.toLowerCase();
  if (k.length > 3) return (h) => h.includes(k);
  const re = new RegExp(`(^|[^a-z0-9])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  return (h) => re.test(h);
}

const compiled = new WeakMap<Record<string, CategoryRule>, CompiledRule[]>();

function compile(section: Record<string, CategoryRule>): CompiledRule[] {
  let rules = compiled.get(section);
  if (!rules) {
    rules = Object.entries(section).map(([name, r]) => ({
      name,
      keywords: r.keywords.filter((k) => k.length > 0).map(keywordTest),
      files: r.file_patterns.length > 0 ? picomatch(r.file_patterns, { dot: true, basename: true }) : undefined,
      modalities: r.modalities.map((m) => m.toLowerCase()),
    }));
    compiled.set(section, rules);
  }
  return rules;
}

function score(r: CompiledRule, haystack: string, evidence: CategoryEvidence, mods: Set<string>): number {
  let s = 0;
  for (const test of r.keywords) if (test(haystack)) s += 1;
  if (r.files && evidence.fileNames.some(r.files)) s += 0.5;
  if (r.modalities.length > 0 && r.modalities.every((m) => mods.has(m))) s += 2 * r.modalities.length;
  return s;
}

function best(section: Record<string, CategoryRule>, haystack: string, evidence: CategoryEvidence, mods: Set<string>, bonus: Record<string, number> = {}): string | undefined {
  let winner: string | undefined;
  let top = 0;
  for (const r of compile(section)) {
    const s = score(r, haystack, evidence, mods) + (bonus[r.name] ?? 0);
    if (s > top) [winner, top] = [r.name, s];
  }
  return winner;
}

/** Assigns primary, secondary and specialization categories from the rules. */
export function categorize(evidence: CategoryEvidence, rules: CategorizationRules): ModelCategory {
  const haystack = evidence.text.join(' ').toLowerCase();
  const mods = new Set(evidence.modalities.map((m) => m.toLowerCase()));
  const primary = best(rules.primary_category, haystack, evidence, mods) ?? (mods.has('image') ? 'VISION' : mods.has('audio') ? 'AUDIO' : 'LANGUAGE');
  const caps = new Set(evidence.capabilities);
  const hint: Record<string, number> = { CHAT: caps.has('chat') ? 1 : 0, CODE: caps.has('code') ? 1 : 0, ANALYSIS: caps.has('embedding') ? 1 : 0 };
  const category: ModelCategory = { primary };
  const secondary = best(rules.secondary_category, haystack, evidence, mods, hint);
  if (secondary) category.secondary = secondary;
  category.specialization = best(rules.specialization, haystack, evidence, mods) ?? 'GENERAL';
  return category;
}
