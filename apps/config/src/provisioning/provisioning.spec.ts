import { describe, expect, it } from 'vitest';
import { ignitionProblems } from './ignition-spec.js';
import { pickGroup, placeholders, renderTemplate, templateValues } from './render.js';

const profile = {
  ignition: { version: '3.4.0' },
  passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['{{ssh_key}}'] }] },
  storage: {
    files: [
      { path: '/etc/fleet/agent.yaml', mode: 0o600, contents: { source: 'data:,nodeId: {{hostname}}%0Atoken: {{token}}%0A' } },
    ],
  },
  systemd: { units: [{ name: 'fleet-agent.service', enabled: true, contents: '[Service]\nExecStart=/usr/bin/fleet-agent run --group {{group}}\n' }] },
};

describe('Ignition 3.4 structural validation', () => {
  it('accepts a valid config', () => {
    expect(ignitionProblems(profile)).toEqual([]);
  });

  it('names unknown keys, wrong types, missing required fields and the wrong version', () => {
    const problems = ignitionProblems({
      ignition: { version: '3.3.0' },
      storage: { files: [{ path: 'relative', mode: '0644', bogus: 1 }, { contents: { source: 'ftp://x' } }] },
      systemd: { units: [{ enabled: 'yes' }] },
      extra: {},
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        '$.ignition.version: must be "3.4.0", found "3.3.0"',
        '$.storage.files[0].mode: must be an integer',
        '$.storage.files[0].bogus: unknown key',
        '$.storage.files[0].path: must be absolute',
        '$.storage.files[1].path: is required',
        '$.storage.files[1].contents.source: unsupported URL scheme',
        '$.systemd.units[0].name: is required',
        '$.systemd.units[0].enabled: must be a boolean',
        '$.extra: unknown key',
      ]),
    );
    expect(ignitionProblems({})).toEqual(['$.ignition: is required']);
  });
});

describe('group matching and rendering', () => {
  const groups = [
    { name: 'default', selector: {}, metadata: {} },
    { name: 'rack1', selector: { labels: { rack: '1' } }, metadata: {} },
    { name: 'one-machine', selector: { mac: '52:54:00:AA:BB:CC', labels: { rack: '1' } }, metadata: {} },
  ];

  it('prefers the group whose selector names the most fields; the selector-less group is the default', () => {
    expect(pickGroup(groups, { mac: '52-54-00-aa-bb-cc', labels: { rack: '1' } })?.name).toBe('one-machine');
    expect(pickGroup(groups, { mac: '52:54:00:00:00:01', labels: { rack: '1' } })?.name).toBe('rack1');
    expect(pickGroup(groups, { labels: {} })?.name).toBe('default');
    expect(pickGroup(groups.slice(1), { labels: {} })).toBeUndefined();
  });

  it('fills placeholders from group metadata and machine facts, percent-encoding inside data URLs', () => {
    const values = templateValues({ name: 'rack1', metadata: { token: 'a b/c', ssh_key: 'ssh-ed25519 AAA' } }, { hostname: 'h1', labels: {} });
    const out = renderTemplate(profile, values) as typeof profile;
    expect(out.storage.files[0].contents.source).toBe('data:,nodeId: h1%0Atoken: a%20b%2Fc%0A');
    expect(out.passwd.users[0].sshAuthorizedKeys).toEqual(['ssh-ed25519 AAA']);
    expect(out.systemd.units[0].contents).toContain('--group rack1');
    expect(ignitionProblems(out)).toEqual([]);
  });

  it('fails naming a placeholder without a value', () => {
    expect(() => renderTemplate(profile, { hostname: 'h' })).toThrow(/\{\{(ssh_key|token|group)\}\} has no value/);
    expect(placeholders(profile)).toEqual(['group', 'hostname', 'ssh_key', 'token']);
  });
});
