import { describe, expect, it } from 'vitest';
import { compareVersions, versionSchema } from '#contracts/updater';

describe('compareVersions', () => {
  it('orders numeric parts numerically, not lexically', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBeGreaterThan(0);
    expect(compareVersions('3815.2.0', '3815.10.1')).toBeLessThan(0);
    expect(compareVersions('39.20240112.3.0', '39.20231101.3.0')).toBeGreaterThan(0);
  });

  it('treats missing parts as zero and ignores build metadata', () => {
    expect(compareVersions('1.2', '1.2.0')).toBe(0);
    expect(compareVersions('1.2.0+abc', '1.2.0+def')).toBe(0);
  });

  it('sorts a pre-release before its release, by semver identifier rules', () => {
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('1.0.0-rc.2', '1.0.0-rc.10')).toBeLessThan(0);
    expect(compareVersions('1.0.0-alpha', '1.0.0-alpha.1')).toBeLessThan(0);
    expect(compareVersions('1.0.0-1', '1.0.0-alpha')).toBeLessThan(0);
  });

  it('sorts a list the way people expect', () => {
    const list = ['2.0.0', '1.0.0', '1.0.0-beta', '1.10.0', '1.2.0'];
    expect([...list].sort(compareVersions)).toEqual(['1.0.0-beta', '1.0.0', '1.2.0', '1.10.0', '2.0.0']);
  });

  it('validates the accepted shapes', () => {
    for (const ok of ['1', '1.2.3', '3815.2.0', '1.0.0-rc.1+build.5']) expect(versionSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', 'v1.2', '1..2', '1.2.', 'latest', '1.2.3 ']) expect(versionSchema.safeParse(bad).success).toBe(false);
  });
});
