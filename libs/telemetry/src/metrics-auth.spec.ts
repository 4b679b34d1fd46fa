import { describe, expect, it } from 'vitest';
import { bearerOf, metricsTokenMatches } from './metrics-auth.js';

describe('bearerOf', () => {
  it('reads the token of the Bearer scheme only, ignoring the scheme case and trailing blanks', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer  abc ')).toBe('abc');
    expect(bearerOf('Basic dXNlcg==')).toBeUndefined();
    expect(bearerOf('Bearer')).toBeUndefined();
    expect(bearerOf('Bearer two words')).toBeUndefined();
    expect(bearerOf(`Bearer ${'a'.repeat(513)}`)).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });
});

describe('metricsTokenMatches', () => {
  const token = 'scrape-0123456789abcdef';

  it('accepts exactly the token in the Bearer scheme', () => {
    expect(metricsTokenMatches(token, `Bearer ${token}`)).toBe(true);
    expect(metricsTokenMatches(token, `bearer ${token} `)).toBe(true);
  });

  it('refuses a missing header, another scheme, another token, a prefix or an extension of it', () => {
    expect(metricsTokenMatches(token, undefined)).toBe(false);
    expect(metricsTokenMatches(token, '')).toBe(false);
    expect(metricsTokenMatches(token, `Basic ${token}`)).toBe(false);
    expect(metricsTokenMatches(token, token)).toBe(false);
    expect(metricsTokenMatches(token, 'Bearer scrape-0123456789abcdeX')).toBe(false);
    expect(metricsTokenMatches(token, `Bearer ${token.slice(0, -1)}`)).toBe(false);
    expect(metricsTokenMatches(token, `Bearer ${token}0`)).toBe(false);
  });
});
