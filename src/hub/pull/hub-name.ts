/**
 * The names a pull takes: a hub id with an optional variant after a colon, as Ollama names
 * `hf.co/` models (`org/name:Q4_K_M`, `org/name:quantized`).
 */
/** A hub repo id: `name` or `org/name`. */
export const HUB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/;

/** A model name as a hub id and variant: `org/name:Q4_K_M`, also spelled `hf.co/org/name:Q4_K_M`; undefined when it is not one. */
export function parseHubName(name: string): { repoId: string; variant?: string } | undefined {
  const bare = name.trim().replace(/^(?:https?:\/\/)?(?:hf\.co|huggingface\.co)\//, '');
  const [repoId = '', variant, ...rest] = bare.split(':');
  if (rest.length > 0 || !HUB_ID_PATTERN.test(repoId) || repoId.includes('..') || (variant !== undefined && !/^[A-Za-z0-9_.-]+$/.test(variant))) return undefined;
  return variant === undefined ? { repoId } : { repoId, variant };
}

