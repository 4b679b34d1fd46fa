import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { runAgent, type RunningAgent } from '../../../apps/agent/src/run/run-agent.js';
import { startInventoryService } from '../../../apps/inventory/src/main.js';
import { MessageBus } from '#lib/messaging';
import type { NodeView } from '#contracts/inventory';
import { createTestDatabase, eventually, testSubjectRoot } from '../../support/infra.js';
import { PrivateNats } from './support.js';

/**
 * The security model of the agent protocol, on a real nats-server with users: a node's NATS user
 * may publish only under `<root>.agent.<its id>.>` and subscribe only under
 * `<root>.node.<its id>.>`, and a real agent still registers and heartbeats, because its reply
 * inbox lives in its own tree. Without that inbox prefix the same user could not get a reply.
 */
describe('an agent confined to its own subjects', () => {
  const root = testSubjectRoot();
  const nats = new PrivateNats();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-perms-'));
  let db: { url: string; drop: () => Promise<void> };
  let inventory: { close(): Promise<void> };
  let platform: MessageBus;
  let agent: RunningAgent | undefined;

  beforeAll(async () => {
    const serverConfig = join(dir, 'nats.conf');
    writeFileSync(
      serverConfig,
      `authorization {
        users = [
          { user: platform, password: platform }
          { user: node-1, password: secret, permissions: {
              publish: { allow: ["${root}.agent.node-1.>"] }
              subscribe: { allow: ["${root}.node.node-1.>"] }
          } }
        ]
      }\n`,
    );
    await nats.start(['-c', serverConfig]);
    db = await createTestDatabase();
    const platformUrl = `nats://platform:platform@127.0.0.1:${nats.port}`;
    inventory = await startInventoryService({
      ...process.env,
      NATS_URL: platformUrl,
      DATABASE_URL: db.url,
      FLEET_SUBJECT_ROOT: root,
      HEARTBEAT_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'error',
    });
    platform = await MessageBus.connect({ url: platformUrl, name: 'test-platform', subjectRoot: root, service: 'test' });
  });

  afterAll(async () => {
    await agent?.shutdown();
    await platform?.drain();
    await inventory?.close();
    await db?.drop();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers and heartbeats with only its own subjects allowed', async () => {
    const configFile = join(dir, 'agent.yaml');
    writeFileSync(
      configFile,
      [
        `natsUrl: nats://node-1:secret@127.0.0.1:${nats.port}`,
        `subjectRoot: ${root}`,
        'nodeId: node-1',
        `dataDir: ${join(dir, 'data')}`,
        'os: { name: Fleet Linux, version: 1.0.0 }',
        'logLevel: error',
      ].join('\n'),
    );
    agent = await runAgent(configFile);
    const node = await eventually(async () => {
      const view = await platform.request<NodeView>(platform.subjects.svc('inventory', 'get'), { id: 'node-1' }).catch(() => undefined);
      return view?.status === 'online' && view.uptimeSeconds !== null ? view : undefined;
    }, 15_000);
    expect(node.os.version).toBe('1.0.0');
  });

  it('needs the node inbox: with the default _INBOX prefix the same user gets no reply', async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${nats.port}`, user: 'node-1', pass: 'secret' });
    try {
      const attempt = nc.request(`${root}.agent.node-1.hello`, new TextEncoder().encode('{}'), { timeout: 1500 });
      await expect(attempt).rejects.toThrow();
    } finally {
      await nc.close().catch(() => undefined);
    }
  });

  it('cannot speak for another node', async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${nats.port}`, user: 'node-1', pass: 'secret', inboxPrefix: `${root}.node.node-1._INBOX` });
    try {
      const attempt = nc.request(`${root}.agent.node-2.hello`, new TextEncoder().encode('{}'), { timeout: 1500 });
      await expect(attempt).rejects.toThrow(/permission|timeout/i);
    } finally {
      await nc.close().catch(() => undefined);
    }
  });
});
