import type { Requirement, Selector } from '#contracts/common';

/** Collects positional parameters (`$1`, `$2`, …) while a WHERE clause is being built. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * Translates a label selector into SQL over a jsonb `labels` column, with the same meaning as
 * `matchesSelector` (Kubernetes semantics: `!=` and `notin` also match nodes without the key).
 * Equality and key tests use `@>` and `?`, which the GIN index on labels serves; `in` becomes
 * an OR of containments for the same reason. Values are always bound parameters.
 */
export function selectorToSql(selector: Selector, params: SqlParams, column = 'n."labels"'): string[] {
  return selector.map((req) => requirementToSql(req, params, column));
}

function contains(key: string, value: string, params: SqlParams, column: string): string {
  return `${column} @> ${params.add(JSON.stringify({ [key]: value }))}::jsonb`;
}

function requirementToSql(req: Requirement, params: SqlParams, column: string): string {
  switch (req.op) {
    case 'eq':
      return contains(req.key, req.value, params, column);
    case 'neq':
      return `NOT (${contains(req.key, req.value, params, column)})`;
    case 'in':
      return `(${req.values.map((v) => contains(req.key, v, params, column)).join(' OR ')})`;
    case 'notin':
      return `NOT (${req.values.map((v) => contains(req.key, v, params, column)).join(' OR ')})`;
    case 'exists':
      return `${column} ? ${params.add(req.key)}`;
    case 'notexists':
      return `NOT (${column} ? ${params.add(req.key)})`;
  }
}
