/**
 * Shorter embeddings (`dimensions`, as OpenAI's API names it). A Matryoshka model was trained so
 * that the first N values of its vectors are embeddings of their own; for such a model the first
 * N values, normalised again, are the shorter embedding. Any other model's first N values mean
 * little, so asking one for fewer dimensions is refused instead of answered with poor vectors.
 *
 * A model counts as Matryoshka when a tag of its registry entry says so: `matryoshka`, or
 * sentence-transformers' model card tag `loss:MatryoshkaLoss` (any tag holding "matryoshka").
 * Tag a model by hand (`mm update`) when its card does not say it.
 */
import { ModelManagerError } from '../errors.js';
import type { ModelMetadata } from '../registry/schema.js';
import { l2Normalize } from './backends/vectors.js';

export function isMatryoshka(model: ModelMetadata | undefined): boolean {
  return model?.tags.some((tag) => /matryoshka/i.test(tag)) ?? false;
}

/**
 * `vectors` cut to their first `dimensions` values (normalised again when `normalize`); the same
 * vectors when `dimensions` is undefined or their full length.
 * @throws INVALID_ARGUMENT when `dimensions` is more than the model gives, or fewer for a model that is not Matryoshka
 */
export function shortenEmbeddings(vectors: number[][], dimensions: number | undefined, { model, modelName, normalize }: {
  model: ModelMetadata | undefined;
  modelName: string;
  normalize: boolean;
}): number[][] {
  const full = vectors[0]?.length ?? 0;
  if (dimensions === undefined || dimensions === full) return vectors;
  if (dimensions > full) {
    throw new ModelManagerError('INVALID_ARGUMENT', `"${modelName}" gives ${full}-dimensional embeddings; ask for ${full} or fewer dimensions`, {
      details: { dimensions, modelDimensions: full },
    });
  }
  if (!isMatryoshka(model)) {
    throw new ModelManagerError('INVALID_ARGUMENT', `"${modelName}" was not trained for shorter embeddings (no "matryoshka" tag in its registry entry): leave dimensions out, or tag the model if it is a Matryoshka model`, {
      details: { dimensions, modelDimensions: full },
    });
  }
  return vectors.map((v) => (normalize ? l2Normalize(v.slice(0, dimensions)) : v.slice(0, dimensions)));
}
