import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from '@nats-io/transport-node';
import type { NodePage } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../support/infra.js';
import { exited, startScript as start, type SpawnedProcess as Proc } from '../support/processes.js';

/**
 * The built platform on the wire: the inventory as its own process, three real `fleet-agent run`
 * processes from dist/, one killed with SIGKILL and brought back.
 */
const repo = resolve(import.meta.dirname, '../..');
const inventoryMain = join(repo, 'dist/apps/inventory/src/main.js');
const agentCli = join(repo, 'dist/apps/agent/src/cli.js');




describe('fleet-agent processes and the inventory service', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-agent-'));
  const agents = new Map<string, Proc>();
  const offlineEvents: string[] = [];
  let dropDb: () => Promise<void>;
  let inventory: Proc;
  let client: MessageBus;
  let eventsSub: Subscription;

  const configFor = (nodeId: string): string => {
    const file = join(dir, `${nodeId}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        natsUrl: TEST_NATS_URL,
        subjectRoot: root,
        nodeId,
        dataDir: join(dir, nodeId),
        group: 'e2e',
        labels: { role: nodeId === 'e2e-3' ? 'db' : 'web' },
        hostname: `${nodeId}.e2e`,
        os: { name: 'Fleetcore Linux', version: '1.2.3' },
        logLevel: 'warn',
      }),
    );
    return file;
  };
  const startAgent = (nodeId: string) => agents.set(nodeId, start(agentCli, ['run', '--config', configFor(nodeId)]));
  const list = (query: Record<string, unknown>) =>
    client.request<NodePage>(client.subjects.svc('inventory', 'list'), { limit: 100, ...query });

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'e2e-client', subjectRoot: root, service: 'e2e' });
    eventsSub = client.nc.subscribe(client.subjects.event('inventory', 'node.offline'), {
      callback: (_err, msg) => {
        offlineEvents.push((msg.json() as { data: { nodeId: string } }).data.nodeId);
      },
    });
    inventory = start(inventoryMain, [], {
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: db.url,
      FLEET_SUBJECT_ROOT: root,
      HEARTBEAT_INTERVAL_SECONDS: '0.5',
      HEARTBEAT_FLUSH_MS: '100',
      LEADER_RETRY_MS: '500',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
    });
    await eventually(() => client.request(client.subjects.svc('inventory', 'ping'), {}, 500), 30_000, 200).catch((err) => {
      throw new Error(`inventory did not start: ${(err as Error).message}\n${inventory.output()}`);
    });
  });

  afterAll(async () => {
    for (const { child } of [...agents.values(), inventory]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    eventsSub?.unsubscribe();
    await client?.drain().catch(() => undefined);
    await deleteStreams(root);
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers three agent processes, which stay online', async () => {
    for (const id of ['e2e-1', 'e2e-2', 'e2e-3']) startAgent(id);
    const page = await eventually(async () => {
      const p = await list({ status: 'online' });
      return p.total === 3 && p.items.every((n) => n.memory !== null) ? p : undefined;
    }, 30_000);
    expect(page.items.map((n) => n.id)).toEqual(['e2e-1', 'e2e-2', 'e2e-3']);
    expect(page.items[0]).toMatchObject({ hostname: 'e2e-1.e2e', group: 'e2e', os: { version: '1.2.3' }, health: 'healthy' });
    expect(page.items[0].arch).toMatch(/^(x86_64|aarch64)$/);
    const dbNodes = await list({ selector: 'role=db' });
    expect(dbNodes.items.map((n) => n.id)).toEqual(['e2e-3']);
  });

  it('sees a SIGKILLed agent go offline, with a node.offline event, and come back online when restarted', async () => {
    const victim = agents.get('e2e-2')!.child;
    victim.kill('SIGKILL');
    await exited(victim);
    await eventually(async () => (await list({ status: 'offline' })).items.map((n) => n.id).join() === 'e2e-2', 15_000);
    await eventually(() => offlineEvents.includes('e2e-2'), 5000);
    expect((await list({ status: 'online' })).total).toBe(2);

    startAgent('e2e-2');
    await eventually(async () => (await list({ status: 'online' })).total === 3, 30_000);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const agent = agents.get('e2e-3')!.child;
    agent.kill('SIGTERM');
    await expect(exited(agent)).resolves.toBe(0);
  });

  it('refuses an invalid config with exit code 78, naming the file and the key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'nodeId: bad-1\nheartbeatEvery: 5\n');
    const proc = start(agentCli, ['run', '--config', file]);
    await expect(exited(proc.child)).resolves.toBe(78);
    expect(proc.output()).toContain(file);
    expect(proc.output()).toContain('unknown key "heartbeatEvery"');
  });
});
