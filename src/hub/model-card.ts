/**
 * Model cards: the YAML front matter of a README.md (license, tags, base_model, language,
 * pipeline_tag) and the first paragraph of prose, used as the description.
 */
import { firstParagraph, readFrontMatter } from '../formats/front-matter.js';

export interface ModelCard {
  license?: string;
  tags: string[];
  baseModel?: string;
  languages: string[];
  pipelineTag?: string;
  libraryName?: string;
  /** Scores from the card's `model-index` (e.g. MMLU 5-shot), as quality metrics. */
  metrics: { name: string; value: number; shots?: number; source: string }[];
  /** First paragraph of the card's text, without markdown headings. */
  summary?: string;
  /** Why the front matter could not be read, when it could not. */
  warning?: string;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Reads `model-index[].results[].metrics[]`; entries without a numeric value are skipped. */
function modelIndexMetrics(modelIndex: unknown): ModelCard['metrics'] {
  const metrics: ModelCard['metrics'] = [];
  for (const entry of Array.isArray(modelIndex) ? modelIndex : []) {
    for (const result of Array.isArray(record(entry).results) ? (record(entry).results as unknown[]) : []) {
      const dataset = record(record(result).dataset);
      const datasetName = strings(dataset.name)[0] ?? strings(dataset.type)[0] ?? 'unknown dataset';
      const fewShot = record(dataset.args).num_few_shot;
      for (const metric of Array.isArray(record(result).metrics) ? (record(result).metrics as unknown[]) : []) {
        const m = record(metric);
        if (typeof m.value !== 'number' || !Number.isFinite(m.value)) continue;
        const shots = record(m.args).num_few_shot ?? fewShot;
        const item: ModelCard['metrics'][number] = { name: `${datasetName} ${strings(m.name)[0] ?? strings(m.type)[0] ?? 'score'}`, value: m.value, source: 'model card' };
        if (typeof shots === 'number' && Number.isInteger(shots) && shots >= 0) item.shots = shots;
        metrics.push(item);
      }
    }
  }
  return metrics;
}

/** Reads a README's front matter and summary; a broken front matter is a warning, not a failure. */
export function parseModelCard(readme: string): ModelCard {
  const card: ModelCard = { tags: [], languages: [], metrics: [] };
  const { data: meta, body, warning } = readFrontMatter(readme);
  const summary = firstParagraph(body);
  if (summary) card.summary = summary;
  if (warning) card.warning = `README.md ${warning}`;
  const license = strings(meta.license)[0];
  if (license) card.license = license === 'other' && typeof meta.license_name === 'string' ? meta.license_name : license;
  card.tags = strings(meta.tags);
  const base = strings(meta.base_model)[0];
  if (base) card.baseModel = base;
  card.languages = strings(meta.language);
  const pipeline = strings(meta.pipeline_tag)[0];
  if (pipeline) card.pipelineTag = pipeline;
  const library = strings(meta.library_name)[0];
  if (library) card.libraryName = library;
  card.metrics = modelIndexMetrics(meta['model-index']);
  return card;
}
