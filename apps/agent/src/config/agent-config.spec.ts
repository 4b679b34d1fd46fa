import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentFeature } from '../feature.js';
import { AgentConfigError, loadAgentConfig, parseAgentConfig } from './agent-config.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
const machineIdPath = join(dir, 'machine-id');
writeFileSync(machineIdPath, '3d1219c7c4c5404aaa1f6d2a48adfda4\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const updates: AgentFeature<{ enabled: boolean; checkSeconds: number }> = {
  name: 'updates',
  configSchema: z.strictObject({ enabled: z.boolean().default(true), checkSeconds: z.number().int().positive().default(60) }),
  start: async () => undefined,
  stop: async () => undefined,
};
const features = [updates as AgentFeature];

function parse(text: string, source = 'agent.yaml') {
  return parseAgentConfig(text, { source, features, machineIdPath });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AgentConfigError);
    return (err as AgentConfigError).problems;
  }
  throw new Error('expected an AgentConfigError');
}

describe('agent config', () => {
  it('fills every default, taking the node id from machine-id', () => {
    const config = parse('');
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      subjectRoot: 'fleet',
      nodeId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
      dataDir: '/var/lib/fleet-agent',
      group: 'default',
      channel: 'stable',
      labels: {},
      heartbeatIntervalSeconds: 10,
      logLevel: 'info',
    });
    expect(config.natsCredentials).toBeUndefined();
    expect(config.features.get('updates')).toEqual({ enabled: true, checkSeconds: 60 });
  });

  it('reads YAML with a feature section', () => {
    const config = parse(
      ['natsUrl: nats://nats:4222', 'nodeId: web-1', 'labels:', '  zone: a', 'heartbeatIntervalSeconds: 2', 'updates:', '  checkSeconds: 5'].join('\n'),
    );
    expect(config).toMatchObject({ natsUrl: 'nats://nats:4222', nodeId: 'web-1', labels: { zone: 'a' }, heartbeatIntervalSeconds: 2 });
    expect(config.features.get('updates')).toEqual({ enabled: true, checkSeconds: 5 });
  });

  it('reads JSON by extension and by content', () => {
    expect(parse('{"nodeId":"n1","group":"edge"}', 'agent.json')).toMatchObject({ nodeId: 'n1', group: 'edge' });
    expect(parse('{"nodeId":"n2","os":{"name":"Fleet","version":"1.2.3"}}', 'agent.conf')).toMatchObject({
      nodeId: 'n2',
      os: { name: 'Fleet', version: '1.2.3' },
    });
  });

  it('rejects an unknown key, naming it and the file', () => {
    expect(() => parse('nodeId: n1\nheartbeatInterval: 5\n', '/etc/fleet-agent/agent.yaml')).toThrow(
      /\/etc\/fleet-agent\/agent\.yaml[\s\S]*unknown key "heartbeatInterval"/,
    );
    expect(problemsOf(() => parse('nodeId: n1\nupdates:\n  enable: false\n'))).toEqual(['unknown key "updates.enable"']);
    expect(problemsOf(() => parse('nodeId: n1\nos:\n  name: x\n  version: y\n  codename: z\n'))).toEqual(['unknown key "os.codename"']);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() =>
      parse('nodeId: "bad id!"\ngroup: UPPER\nheartbeatIntervalSeconds: -1\nfoo: 1\nbar: 2\nupdates:\n  checkSeconds: 0\n'),
    );
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        'unknown key "foo"',
        'unknown key "bar"',
        expect.stringMatching(/^nodeId: /),
        expect.stringMatching(/^group: /),
        expect.stringMatching(/^heartbeatIntervalSeconds: /),
        expect.stringMatching(/^updates\.checkSeconds: /),
      ]),
    );
  });

  it('says clearly when there is no node id and no machine-id', () => {
    const problems = problemsOf(() =>
      parseAgentConfig('group: edge\n', { source: 'a.yaml', features, machineIdPath: join(dir, 'missing') }),
    );
    expect(problems).toEqual([expect.stringMatching(/nodeId: not set, and .*missing cannot be read \(ENOENT\); set nodeId/)]);
  });

  it('checks that the NATS credentials file is readable', () => {
    const creds = join(dir, 'node.creds');
    writeFileSync(creds, 'creds');
    expect(parse(`nodeId: n1\nnatsCredentials: ${creds}\n`).natsCredentials).toBe(creds);
    expect(problemsOf(() => parse(`nodeId: n1\nnatsCredentials: ${join(dir, 'none.creds')}\n`))).toEqual([
      expect.stringMatching(/^natsCredentials: cannot read .*none\.creds \(ENOENT\)$/),
    ]);
  });

  it('reports syntax errors and non-mapping documents', () => {
    expect(problemsOf(() => parse('{"nodeId": ', 'a.json'))[0]).toMatch(/^not valid JSON: /);
    expect(problemsOf(() => parse('a: [1, 2', 'a.yaml'))[0]).toMatch(/^not valid YAML: /);
    expect(problemsOf(() => parse('- a\n- b\n'))).toEqual(['the document must be a mapping of keys to values']);
  });

  it('loads from a file and reports an unreadable one', () => {
    const file = join(dir, 'agent.yml');
    writeFileSync(file, 'nodeId: from-file\n');
    expect(loadAgentConfig(file, { features, machineIdPath }).nodeId).toBe('from-file');
    expect(() => loadAgentConfig(join(dir, 'nope.yaml'), { features, machineIdPath })).toThrow(/nope\.yaml[\s\S]*cannot read the file/);
  });
});
