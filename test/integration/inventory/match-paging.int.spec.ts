import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageBus, matchAllNodes } from '#lib/messaging';
import { startInventoryService } from '../../../apps/inventory/src/main.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, testSubjectRoot } from '../../support/infra.js';

/**
 * Services resolve targets through `matchAllNodes`, which pages the inventory's `match` verb, so
 * a fleet too large for one NATS reply still comes back whole and in id order.
 */
describe('matchAllNodes against the real inventory', () => {
  const root = testSubjectRoot();
  let db: { url: string; drop: () => Promise<void> };
  let inventory: { close(): Promise<void> };
  let bus: MessageBus;

  beforeAll(async () => {
    db = await createTestDatabase();
    inventory = await startInventoryService({
      ...process.env,
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: db.url,
      FLEET_SUBJECT_ROOT: root,
      LOG_LEVEL: 'error',
      FLEET_SELF_REGISTER: 'false',
    });
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'match-test', subjectRoot: root, service: 'test' });
    for (let i = 0; i < 25; i++) {
      const nodeId = `m-${String(i).padStart(2, '0')}`;
      await bus.request(bus.subjects.agent(nodeId, 'hello'), {
        v: 1, nodeId, hostname: nodeId, group: i % 2 ? 'odd' : 'even', labels: { zone: i < 10 ? 'a' : 'b' },
        arch: 'x86_64', os: { name: 'Fleet Linux', version: '1.0.0' }, agentVersion: '0.1.0',
      });
    }
  });

  afterAll(async () => {
    await bus?.drain();
    await inventory?.close();
    await db?.drop();
    await deleteStreams(root);
  });

  it('returns every matching node across pages, in id order', async () => {
    const all = await matchAllNodes(bus, {}, { pageSize: 10 });
    expect(all.map((n) => n.id)).toEqual(Array.from({ length: 25 }, (_, i) => `m-${String(i).padStart(2, '0')}`));
  });

  it('keeps the filters on every page', async () => {
    const odd = await matchAllNodes(bus, { groups: ['odd'], selector: 'zone=b' }, { pageSize: 4 });
    expect(odd.map((n) => n.id)).toEqual(['m-11', 'm-13', 'm-15', 'm-17', 'm-19', 'm-21', 'm-23']);
  });
});
