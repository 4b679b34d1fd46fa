import { describe, expect, it } from 'vitest';
import { updatesConfigSchema } from './config.js';
import { simulatedHealthFails } from './updates.feature.js';

describe('updates config section', () => {
  it('has defaults that reboot with systemctl and trust nothing', () => {
    expect(updatesConfigSchema.parse({})).toMatchObject({
      enabled: true,
      backend: 'ab',
      trustedKeys: [],
      rebootMode: 'command',
      rebootCommand: 'systemctl reboot',
      healthChecks: [],
      healthDeadlineSeconds: 300,
    });
  });

  it('rejects unknown keys, at the top and inside a health check', () => {
    expect(updatesConfigSchema.safeParse({ rebootCmd: 'reboot' }).success).toBe(false);
    expect(updatesConfigSchema.safeParse({ healthChecks: [{ name: 'x', command: 'true', retries: 3 }] }).success).toBe(false);
    expect(updatesConfigSchema.safeParse({ healthChecks: [{ name: 'x' }] }).success).toBe(false);
    expect(updatesConfigSchema.safeParse({ healthChecks: [{ name: 'api', url: 'not a url' }] }).success).toBe(false);
    expect(updatesConfigSchema.parse({ healthChecks: [{ name: 'api', url: 'http://127.0.0.1:8080/healthz' }] }).healthChecks[0]).toEqual({
      name: 'api',
      url: 'http://127.0.0.1:8080/healthz',
      timeoutSeconds: 5,
    });
  });
});

describe('simulated health-check failures', () => {
  it('fail for about the configured share of nodes, the same ones for the same seed', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `sim-${i + 1}`);
    const failing = ids.filter((id) => simulatedHealthFails(7, id, '1.1.0', 0.05));
    expect(failing.length / ids.length).toBeGreaterThan(0.04);
    expect(failing.length / ids.length).toBeLessThan(0.06);
    expect(ids.filter((id) => simulatedHealthFails(7, id, '1.1.0', 0.05))).toEqual(failing);
    expect(ids.filter((id) => simulatedHealthFails(8, id, '1.1.0', 0.05))).not.toEqual(failing);
    expect(ids.some((id) => simulatedHealthFails(7, id, '1.1.0', 0))).toBe(false);
  });
});

describe('version order the agent refuses downgrades by', () => {
  it('orders Flatcar, Fedora CoreOS and semver-style versions numerically, pre-releases first', async () => {
    const { compareVersions } = await import('#contracts/updater');
    expect(compareVersions('3815.2.0', '3760.2.0')).toBeGreaterThan(0);
    expect(compareVersions('39.20240112.3.0', '39.20240210.3.0')).toBeLessThan(0);
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('1.0.0+build.7', '1.0.0')).toBe(0);
  });
});
