import { describe, expect, it } from 'vitest';
import { bearerOf } from '#lib/telemetry';
import { roleAtLeast } from '../auth/roles.js';
import { displayPrefix, generateSecret, hashSecret } from './token-secret.js';

describe('token secrets', () => {
  it('are 256 random bits behind a recognisable prefix, hashed deterministically', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^fct_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(hashSecret(a).equals(hashSecret(a))).toBe(true);
    expect(hashSecret(a)).toHaveLength(32);
    expect(displayPrefix(a)).toBe(a.slice(0, 12));
  });

  it('are read from the Authorization header only in the Bearer scheme', () => {
    expect(bearerOf('Bearer fct_abc')).toBe('fct_abc');
    expect(bearerOf('bearer  fct_abc ')).toBe('fct_abc');
    expect(bearerOf('Basic dXNlcg==')).toBeUndefined();
    expect(bearerOf('Bearer')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('roles are ordered viewer < operator < admin', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
  });
});
