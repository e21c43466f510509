/**
 * Vector helpers shared by the backends.
 */

/** `vector` scaled to length 1 (a zero vector stays zero). */
export function l2Normalize(vector: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sum);
  return Array.from(vector, (v) => (norm === 0 ? 0 : v / norm));
}
