import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus } from '#lib/messaging';
import { startUpdaterService, type RunningUpdater } from '../../../apps/updater/src/main.js';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { main } from '../../../apps/cli/src/main.js';
import { generateSigningKeyPair, parsePrivateKey, signDigest } from '../../../apps/agent/src/features/updates/signing.js';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from '../gateway/harness.js';

/** fleetctl's update commands, in-process, against the real gateway, updater and inventory. */
describe('fleetctl releases / rollouts / locks against the real services', () => {
  let f: GatewayFixture;
  let updater: RunningUpdater;
  let inventory: RunningInventory;
  let agents: MessageBus;
  const keys = generateSigningKeyPair();

  async function fleetctl(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: { write: (c: string) => (stdout += c) },
      stderr: { write: (c: string) => (stderr += c) },
      env: { FLEETCTL_SERVER: f.gateway.url, FLEETCTL_TOKEN: ADMIN_TOKEN },
    });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    f = await startGatewayFixture();
    inventory = await startInventoryService({ ...f.env, LOG_LEVEL: 'error' });
    updater = await startUpdaterService({ ...f.env, LOG_LEVEL: 'error', UPDATER_TICK_MS: '200' });
    agents = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-agents', subjectRoot: f.root, service: 'test-agents' });
    for (let i = 0; i < 4; i++) {
      const nodeId = `c-${i}`;
      await agents.request(agents.subjects.agent(nodeId, 'hello'), {
        v: 1, nodeId, hostname: nodeId, group: 'web', channel: 'beta', arch: 'x86_64', os: { name: 'fleetos', version: '2.0.0' }, agentVersion: '0.1.0',
      });
    }
  });

  afterAll(async () => {
    await agents?.drain();
    await updater?.close();
    await inventory?.close();
    await f?.close();
  });

  it('publishes, lists and withdraws releases', async () => {
    const sha256 = createHash('sha256').update('img').digest('hex');
    const signature = signDigest(sha256, parsePrivateKey(keys.privateKeyPem));
    const created = await fleetctl('releases', 'create', '--version', '2.1.0', '--channel', 'beta', '--url', 'https://img/2.1.0', '--sha256', sha256, '--size', '3', '--signature', signature, '--barrier', 'layout');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/release 2\.1\.0 \(beta\/x86_64\) published: [0-9a-f-]{36}/);
    expect((await fleetctl('releases', 'create', '--version', '2.2.0', '--channel', 'beta', '--url', 'https://img/2.2.0', '--sha256', sha256, '--size', '3', '--signature', signature, '--not-target')).code).toBe(0);
    const missing = await fleetctl('releases', 'create', '--version', '2.3.0', '--url', 'https://img/x');
    expect(missing.code).toBe(2);

    const ls = await fleetctl('releases', 'ls', '--channel', 'beta');
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION +CHANNEL +ARCH +SIZE +GRAPH +AGE +STATE +ID$/);
    expect(lines[1]).toMatch(/^2\.2\.0 +beta +x86_64 .* not-target .* published/);
    expect(lines[2]).toMatch(/^2\.1\.0 +beta +x86_64 .* barrier .* published/);

    const id = ls.stdout.match(/2\.2\.0 .* ([0-9a-f-]{36})\s*$/m)![1];
    expect((await fleetctl('releases', 'withdraw', id)).code).toBe(2);
    const w = await fleetctl('releases', 'withdraw', id, '--reason', 'broken');
    expect(w.stdout).toContain('withdrawn');
    expect((await fleetctl('releases', 'ls', '--channel', 'beta', '--all')).stdout).toContain('withdrawn: broken');
  });

  it('creates, shows, pauses, resumes and aborts a rollout', async () => {
    const json = await fleetctl('releases', 'ls', '--channel', 'beta', '-o', 'json');
    const release = (JSON.parse(json.stdout) as { items: Array<{ id: string; version: string }> }).items.find((r) => r.version === '2.1.0')!;
    const created = await fleetctl(
      'rollouts', 'create', '--release', release.id, '--waves', '25,100', '--soak', '1h', '--slots', '2', '--group-slots', 'web=1',
      '--window', 'web=daily@00:00+24h@UTC', '--failure-threshold', '10', '--paused', '-o', 'json',
    );
    expect(created.code, created.stderr).toBe(0);
    const rollout = JSON.parse(created.stdout) as { id: string; state: string; groupSlots: Record<string, number>; maintenanceWindows: Record<string, unknown[]> };
    expect(rollout.groupSlots).toEqual({ web: 1 });
    expect(rollout.maintenanceWindows.web).toHaveLength(1);

    await eventually(async () => (await fleetctl('rollouts', 'show', rollout.id, '--nodes')).stdout.includes('c-3'), 10_000, 200);
    const show = await fleetctl('rollouts', 'show', rollout.id, '--nodes');
    expect(show.stdout).toMatch(/strategy: +waves 25,100, soak 3600s/);
    expect(show.stdout).toMatch(/wave 1 +25%/);
    expect(show.stdout).toMatch(/c-0 +web +\d +pending/);

    expect((await fleetctl('rollouts', 'resume', rollout.id)).stdout).toContain(': running');
    expect((await fleetctl('rollouts', 'pause', rollout.id, '--reason', 'lunch')).stdout).toMatch(/paused/);
    const ls = await fleetctl('rollouts', 'ls', '--state', 'paused');
    expect(ls.stdout).toContain(rollout.id);
    expect((await fleetctl('rollouts', 'abort', rollout.id)).stdout).toContain('aborted');
    const again = await fleetctl('rollouts', 'resume', rollout.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('conflict');
  });

  it('lists reboot-slot holders and force-releases them', async () => {
    const grant = await agents.request<{ granted: boolean }>(agents.subjects.svc('updater', 'locks.acquire'), { id: 'stuck-node', group: 'edge' });
    expect(grant.granted).toBe(true);
    const ls = await fleetctl('locks', 'ls', '--group', 'edge');
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/edge +1\/1 +\w+ +open +stuck-node/);
    const released = await fleetctl('locks', 'release', 'edge', '--id', 'stuck-node');
    expect(released.stdout).toBe('released: stuck-node\n');
    expect((await fleetctl('locks', 'ls', '--group', 'edge')).stdout).not.toContain('stuck-node');
  });
});
