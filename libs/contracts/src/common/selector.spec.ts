import { describe, expect, it } from 'vitest';
import { formatSelector, matchesSelector, parseSelector } from './selector.js';

describe('label selectors', () => {
  it('parses every operator', () => {
    expect(parseSelector('env=prod,tier!=db,zone in (a,b),role notin (x),gpu,!legacy')).toEqual([
      { key: 'env', op: 'eq', value: 'prod' },
      { key: 'tier', op: 'neq', value: 'db' },
      { key: 'zone', op: 'in', values: ['a', 'b'] },
      { key: 'role', op: 'notin', values: ['x'] },
      { key: 'gpu', op: 'exists' },
      { key: 'legacy', op: 'notexists' },
    ]);
  });

  it('treats an empty selector as matching everything', () => {
    expect(parseSelector('  ')).toEqual([]);
    expect(matchesSelector(parseSelector(''), {})).toBe(true);
  });

  it('matches labels the way Kubernetes does', () => {
    const sel = parseSelector('env=prod,zone in (a,b),!legacy');
    expect(matchesSelector(sel, { env: 'prod', zone: 'a' })).toBe(true);
    expect(matchesSelector(sel, { env: 'prod', zone: 'c' })).toBe(false);
    expect(matchesSelector(sel, { env: 'prod', zone: 'a', legacy: 'true' })).toBe(false);
    expect(matchesSelector(parseSelector('tier!=db'), {})).toBe(true);
    expect(matchesSelector(parseSelector('role notin (x)'), {})).toBe(true);
  });

  it('rejects malformed selectors with a validation error naming the term', () => {
    expect(() => parseSelector('env=')).not.toThrow(); // empty value is a legal label value
    expect(() => parseSelector('a in (b')).toThrow(/unbalanced/);
    expect(() => parseSelector('a,,b')).toThrow(/empty term/);
    expect(() => parseSelector('=x')).toThrow(/cannot parse|bad key/);
    expect(() => parseSelector('a in ()')).toThrow(/empty value list/);
    expect(() => parseSelector('k=v w')).toThrow(/cannot parse/);
  });

  it('formats back to an equivalent selector', () => {
    const text = 'env=prod,zone in (a,b),!legacy,gpu';
    expect(parseSelector(formatSelector(parseSelector(text)))).toEqual(parseSelector(text));
  });
});
