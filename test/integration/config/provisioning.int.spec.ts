import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisioningVerbs as p } from '#contracts/config';
import { ConfigHarness } from './support.js';

const ignition = {
  ignition: { version: '3.4.0' },
  storage: { files: [{ path: '/etc/fleet/agent.yaml', mode: 384, contents: { source: 'data:,token: {{token}}%0Ahost: {{hostname}}%0A' } }] },
  systemd: { units: [{ name: 'fleet-agent.service', enabled: true, contents: '[Service]\nExecStart=/usr/bin/fleet-agent run\n' }] },
};

describe('provisioning (first boot) with real PostgreSQL and NATS', () => {
  const h = new ConfigHarness();
  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('refuses a profile that is not a valid Ignition 3.4 config, naming the problems', async () => {
    await expect(h.call(p.profilePut, { name: 'bad', ignition: { ignition: { version: '3.4.0' }, storage: { files: [{ mode: 420 }] } } })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/\$\.storage\.files\[0\]\.path: is required/),
    });
  });

  it('renders the most specific matching group, falls back to the default group, or says not_found', async () => {
    await h.call(p.profilePut, { name: 'worker', ignition });
    await expect(h.call(p.render, { mac: '52:54:00:00:00:01', labels: {} })).rejects.toMatchObject({ code: 'not_found' });
    await h.call(p.groupPut, { name: 'rack1', profile: 'worker', selector: { labels: { rack: '1' } }, metadata: { token: 'rack-token' } });
    await h.call(p.groupPut, { name: 'default', profile: 'worker', selector: {}, metadata: { token: 'default-token' } });
    await expect(h.call(p.groupPut, { name: 'x', profile: 'missing', selector: {} })).rejects.toMatchObject({ code: 'validation_failed' });

    const rack = await h.call<{ group: string; ignition: typeof ignition }>(p.render, { hostname: 'n1', labels: { rack: '1' } });
    expect(rack.group).toBe('rack1');
    expect(rack.ignition.ignition.version).toBe('3.4.0');
    expect(rack.ignition.storage.files[0].contents.source).toBe('data:,token: rack-token%0Ahost: n1%0A');
    const other = await h.call<{ group: string }>(p.render, { hostname: 'n2', labels: { rack: '2' } });
    expect(other.group).toBe('default');
    // No hostname: the template's {{hostname}} has no value.
    await expect(h.call(p.render, { labels: {} })).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/hostname/) });

    expect((await h.call<{ groups: unknown[] }>(p.groupList)).groups).toHaveLength(2);
    await expect(h.call(p.profileDelete, { name: 'worker' })).rejects.toMatchObject({ code: 'conflict' });
    await h.call(p.groupDelete, { name: 'default' });
    await expect(h.call(p.render, { hostname: 'n2', labels: {} })).rejects.toMatchObject({ code: 'not_found' });
  });
});
