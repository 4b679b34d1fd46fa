import { FleetError } from './errors.js';

/**
 * Label selectors in the Kubernetes style, used everywhere a set of machines is named:
 *   `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (has key), `!k` (lacks key),
 * joined by commas (all must hold). The empty selector matches everything.
 */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Selector = Requirement[];

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,252}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export function isLabelKey(key: string): boolean {
  return KEY.test(key);
}

export function isLabelValue(value: string): boolean {
  return VALUE.test(value);
}

function fail(selector: string, why: string): never {
  throw new FleetError('validation_failed', `invalid label selector "${selector}": ${why}`);
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) fail(selector, 'unbalanced parentheses');
  }
  if (depth !== 0) fail(selector, 'unbalanced parentheses');
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim());
}

function checkKey(selector: string, key: string): string {
  if (!isLabelKey(key)) fail(selector, `bad key "${key}"`);
  return key;
}

function checkValue(selector: string, value: string): string {
  if (!isLabelValue(value)) fail(selector, `bad value "${value}"`);
  return value;
}

export function parseSelector(selector: string | undefined | null): Selector {
  const text = (selector ?? '').trim();
  if (text === '') return [];
  return splitTerms(text).map((term): Requirement => {
    if (term === '') fail(text, 'empty term');
    const set = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (set) {
      const values = set[3].split(',').map((v) => checkValue(text, v.trim()));
      if (values.length === 0 || values.some((v) => v === '')) fail(text, `empty value list in "${term}"`);
      return { key: checkKey(text, set[1]), op: set[2] as 'in' | 'notin', values };
    }
    const cmp = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
    if (cmp) {
      const op = cmp[2] === '!=' ? 'neq' : 'eq';
      return { key: checkKey(text, cmp[1]), op, value: checkValue(text, cmp[3]) };
    }
    const not = /^!\s*([^\s!=(),]+)$/.exec(term);
    if (not) return { key: checkKey(text, not[1]), op: 'notexists' };
    if (/^[^\s!=(),]+$/.test(term)) return { key: checkKey(text, term), op: 'exists' };
    return fail(text, `cannot parse "${term}"`);
  });
}

export function matchesSelector(selector: Selector, labels: Record<string, string>): boolean {
  return selector.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = has ? labels[req.key] : undefined;
    switch (req.op) {
      case 'eq':
        return value === req.value;
      case 'neq':
        return value !== req.value;
      case 'in':
        return value !== undefined && req.values.includes(value);
      case 'notin':
        return value === undefined || !req.values.includes(value);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

export function formatSelector(selector: Selector): string {
  return selector
    .map((req) => {
      switch (req.op) {
        case 'eq':
          return `${req.key}=${req.value}`;
        case 'neq':
          return `${req.key}!=${req.value}`;
        case 'in':
        case 'notin':
          return `${req.key} ${req.op} (${req.values.join(',')})`;
        case 'exists':
          return req.key;
        case 'notexists':
          return `!${req.key}`;
      }
    })
    .join(',');
}
