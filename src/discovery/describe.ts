/**
 * Turns one found model into registry fields: `readFindings` (read-findings.ts) reads its files,
 * in a header reader thread during a large scan; `describeFindings` categorises and sizes what was
 * found, on the main thread (which has time to spare while the reader is busy: see describe-pool.ts).
 */
import { estimateMemory, toMemoryEstimate, type EstimatedModel, type MemoryEstimateOptions } from '../estimate/index.js';
import type { MemoryEstimate, ModelMetadataInput } from '../registry/index.js';
import { readFindings, type Findings } from './read-findings.js';
import { categorize, type CategorizationRules } from './rules.js';
import type { ModelUnit } from './types.js';

export interface Description {
  /** Derived fields, without id and bookkeeping. */
  fields: Omit<ModelMetadataInput, 'modelId'>;
  /** Fields from metadata.json, applied over the derived ones. */
  overrides: Record<string, unknown>;
  bytesRead: number;
  /** How to size the model's memory beyond its config: the headers' parameter count, a GGUF header's shape and file bytes. */
  estimate: Pick<MemoryEstimateOptions, 'shape' | 'weightsBytes' | 'parameterCount' | 'parameterMethod'>;
  /** A file read whose size or mtime, after the read, was not what the walk saw: it changed meanwhile, so this description may not hold. */
  moved?: string;
}

/**
 * The memory estimate an import would store, so `mm list --fits` answers for models found on
 * disk. None when the weights cannot be sized: overhead alone would claim the model fits anywhere.
 */
export function estimateOf(model: EstimatedModel, options: Description['estimate']): MemoryEstimate | undefined {
  const report = estimateMemory(model, options);
  return report.weightsBytes > 0 ? toMemoryEstimate(report) : undefined;
}

/**
 * Reads a model's headers and side files into registry fields.
 * @throws ModelManagerError when a weights header is unreadable (the caller turns it into a warning)
 */
export async function describeUnit(unit: ModelUnit, rules: CategorizationRules, warn: (path: string, reason: string) => void): Promise<Description> {
  return describeFindings(await readFindings(unit, warn), rules);
}

/**
 * The registry fields of what was found: the category the rules give (a code or reasoning model
 * also gets that capability) and the memory estimate. Run on the main thread: in a reader thread
 * they took ~55 µs a model, 10-12% of its time in a 10,000-model scan, while the main thread's
 * event loop sat idle 0.35-1.1 s of the scan waiting for that thread (0-0.6 s with them here).
 */
export function describeFindings(findings: Findings, rules: CategorizationRules): Description {
  const { evidence, fields: found, ...rest } = findings;
  const category = categorize(evidence, rules);
  const capabilities = [...(found.capabilities ?? [])];
  // Code and reasoning models are told by their names; the category found them, the capability follows.
  const named = category.secondary?.toLowerCase();
  if ((named === 'code' || named === 'reasoning') && !capabilities.includes(named)) capabilities.push(named);
  const sized = estimateOf(found, findings.estimate);
  return { ...rest, fields: { ...found, capabilities, category, ...(sized ? { memoryEstimate: sized } : {}) } };
}
