import { parseAllDocuments } from 'yaml';
import { parseSelector, FleetError } from '#contracts/common';
import { contentBytes, globToRegExp, pathProblem, scopeKey, type ConfigItem } from '#contracts/config';
import { parseToml } from './toml.js';
import { validateJson, type JsonSchema } from './json-schema.js';

export interface ValidationLimits {
  /** Paths must be strictly inside one of these absolute directories. */
  roots: string[];
  /** Largest file content, in bytes after base64 decoding. */
  maxFileBytes: number;
  /**
   * Largest possible effective bundle: the sum over paths of the largest item at any scope, so
   * no node's bundle can exceed it (it must fit a NATS message).
   */
  maxBundleBytes: number;
  maxItems: number;
}

export interface RegisteredSchema {
  pattern: string;
  schema: JsonSchema;
}

export interface ValidationProblem {
  scope: string;
  path: string;
  reason: string;
}

/** Validates a whole config set as it would be published; an empty list means it may be. */
export function validateConfigSet(items: readonly ConfigItem[], schemas: readonly RegisteredSchema[], limits: ValidationLimits): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const compiled = schemas.map((s) => ({ ...s, re: globToRegExp(s.pattern) }));
  const largestPerPath = new Map<string, number>();
  if (items.length > limits.maxItems) problems.push({ scope: '*', path: '*', reason: `more than ${limits.maxItems} items` });
  for (const item of items) {
    const scope = scopeKey(item.scope);
    const add = (reason: string) => problems.push({ scope, path: item.file.path, reason });
    if (item.scope.kind === 'selector') {
      try {
        parseSelector(item.scope.selector);
      } catch (err) {
        add((err as Error).message);
      }
    }
    const pathIssue = pathProblem(item.file.path, limits.roots);
    if (pathIssue) {
      add(pathIssue);
      continue;
    }
    if (item.file.encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(item.file.content.replace(/\s+/g, ''))) {
      add('content is not valid base64');
      continue;
    }
    const bytes = contentBytes(item.file);
    if (bytes.length > limits.maxFileBytes) add(`content is ${bytes.length} bytes, more than the limit of ${limits.maxFileBytes}`);
    largestPerPath.set(item.file.path, Math.max(largestPerPath.get(item.file.path) ?? 0, bytes.length + 512));
    const text = bytes.toString('utf8');
    let parsed: unknown;
    let parsable = false;
    try {
      const syntax = parseBySyntax(item.file.path, text);
      parsable = syntax.kind !== 'none';
      parsed = syntax.value;
    } catch (err) {
      add(`${syntaxName(item.file.path)} syntax error: ${(err as Error).message}`);
      continue;
    }
    for (const s of compiled) {
      if (!s.re.test(item.file.path)) continue;
      if (!parsable) {
        add(`schema ${s.pattern} applies but ${item.file.path} is not a JSON, YAML or TOML file`);
        continue;
      }
      const errors = validateJson(s.schema, parsed);
      if (errors.length) add(`does not match schema ${s.pattern}: ${errors.slice(0, 5).join('; ')}`);
    }
  }
  const worst = [...largestPerPath.values()].reduce((a, b) => a + b, 0);
  if (worst > limits.maxBundleBytes) {
    problems.push({ scope: '*', path: '*', reason: `a node's bundle could reach ${worst} bytes, more than the limit of ${limits.maxBundleBytes}` });
  }
  return problems;
}

/** Throws `validation_failed` naming every failing item. */
export function assertValid(problems: ValidationProblem[]): void {
  if (problems.length === 0) return;
  const summary = problems
    .slice(0, 10)
    .map((p) => `${p.path} (${p.scope}): ${p.reason}`)
    .join('; ');
  throw new FleetError('validation_failed', `config set is not valid: ${summary}`, { problems });
}

export function syntaxName(path: string): string {
  const ext = extension(path);
  return ext === 'yml' ? 'YAML' : ext.toUpperCase();
}

function extension(path: string): string {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? m[1].toLowerCase() : '';
}

/** Parses JSON, YAML (all documents; the first is returned) and TOML by file extension. */
export function parseBySyntax(path: string, text: string): { kind: 'json' | 'yaml' | 'toml' | 'none'; value?: unknown } {
  switch (extension(path)) {
    case 'json':
      return { kind: 'json', value: JSON.parse(text) };
    case 'yaml':
    case 'yml': {
      const docs = parseAllDocuments(text);
      const list = Array.isArray(docs) ? docs : [docs];
      for (const d of list) {
        if (d.errors.length) throw new Error(d.errors[0].message.split('\n')[0]);
      }
      return { kind: 'yaml', value: list[0]?.toJS() ?? null };
    }
    case 'toml':
      return { kind: 'toml', value: parseToml(text) };
    default:
      return { kind: 'none' };
  }
}
