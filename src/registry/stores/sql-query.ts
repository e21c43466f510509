/** What the SQL stores (SQLite, DuckDB) share of a query: sort columns and the scalar filters. */
import type { ModelFilter, SortField } from '../query.js';

/** The column each sort field orders by, the same in both schemas. */
export const SORT_COLUMNS = {
  modelId: 'model_id',
  modelName: 'model_name',
  parameterCount: 'parameter_count',
  contextLength: 'context_length',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} as const satisfies Record<SortField, string>;

/**
 * WHERE clauses (with `?` placeholders) and their values for the filters held in plain columns;
 * each store adds its own clauses for tags and I/O types, which it keeps in its own way.
 */
export function scalarClauses(f: ModelFilter): { clauses: string[]; values: (string | number)[] } {
  const clauses: string[] = [];
  const values: (string | number)[] = [];
  const inList = (column: string, list: unknown) => {
    if (!Array.isArray(list)) return;
    clauses.push(`${column} IN (${list.map(() => '?').join(',')})`);
    values.push(...(list as string[]));
  };
  inList('model_type', f.modelType);
  inList('architecture', f.architecture);
  inList('attention_type', f.attentionType);
  inList('format', f.format);
  inList('source', f.source);
  const bounds = [['parameter_count >= ?', f.minParams], ['parameter_count <= ?', f.maxParams], ['total_bytes <= ?', f.fitsBytes], ['local_path = ?', f.localPath]] as const;
  for (const [clause, value] of bounds) {
    if (value !== undefined) {
      clauses.push(clause);
      values.push(value);
    }
  }
  return { clauses, values };
}
