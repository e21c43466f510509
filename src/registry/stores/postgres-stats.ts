/**
 * The registry's counts in one pass over the narrow columns of the postgres store (GROUPING SETS).
 */
import type { CountMap, RegistryStats } from './store.js';

/** One row of STATS_SQL: `by` (GROUPING) says which column it counts: bit 4 model_type ... bit 0 source; 31 = all. */
export type StatsGroup = {
  model_type: string | null;
  arch_label: string | null;
  attention_type: string | null;
  format: string | null;
  source: string | null;
  by: number;
  n: number;
  params: number;
};

/** The counts by each column, and the totals, of the models in the quoted schema `s` passing `where` (a WHERE clause or ''). */
export const STATS_SQL = (s: string, where: string) => `SELECT model_type, arch_label, attention_type, format, source,
    GROUPING(model_type, arch_label, attention_type, format, source) AS by, count(*)::integer AS n, coalesce(sum(parameter_count), 0)::float8 AS params
  FROM ${s}.models ${where} GROUP BY GROUPING SETS ((model_type), (arch_label), (attention_type), (format), (source), ())`;

/** The stats shape from STATS_SQL's rows; empty keys are not counted, as in the other stores. */
export function statsOf(rows: readonly StatsGroup[], totalVersions: number): RegistryStats {
  const stats: RegistryStats = {
    totalModels: 0, totalVersions, totalParameters: 0, byType: {}, byArchitecture: {}, byAttentionType: {}, byFormat: {}, bySource: {},
  };
  const maps: [number, keyof StatsGroup, CountMap][] = [
    [0b01111, 'model_type', stats.byType], [0b10111, 'arch_label', stats.byArchitecture], [0b11011, 'attention_type', stats.byAttentionType],
    [0b11101, 'format', stats.byFormat], [0b11110, 'source', stats.bySource],
  ];
  for (const row of rows) {
    if (row.by === 0b11111) {
      stats.totalModels = row.n;
      stats.totalParameters = row.params;
      continue;
    }
    const [, column, map] = maps.find(([by]) => by === row.by)!;
    const key = row[column];
    if (typeof key === 'string' && key !== '') map[key] = row.n;
  }
  return stats;
}
