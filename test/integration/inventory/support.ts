import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import type { HeartbeatInput, HelloInput } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { HeartbeatService } from '../../../apps/inventory/src/heartbeats/heartbeat.service.js';
import { OfflineDetectorService } from '../../../apps/inventory/src/offline/offline-detector.service.js';
import { OutboxRelay } from '../../../apps/inventory/src/outbox/outbox-relay.service.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, testSubjectRoot } from '../../support/infra.js';

/** A fluent factory for hellos: `hello('n1', { labels: { zone: 'a' } })`. */
export function hello(nodeId: string, overrides: Partial<HelloInput> = {}): HelloInput {
  return {
    v: 1,
    nodeId,
    hostname: `${nodeId}.example.net`,
    labels: {},
    group: 'default',
    channel: 'stable',
    arch: 'amd64',
    os: { name: 'Fleet Linux', version: '4081.2.0' },
    kernel: '6.6.21',
    bootedSlot: 'a',
    agentVersion: '0.1.0',
    runtimes: [{ name: 'containerd', version: '1.7.13' }],
    bootId: 'boot-1',
    ...overrides,
  };
}

export function heartbeat(overrides: Partial<HeartbeatInput> = {}): HeartbeatInput {
  return {
    v: 1,
    uptimeSeconds: 100,
    load: [0.1, 0.2, 0.3],
    memory: { totalBytes: 8e9, availableBytes: 4e9 },
    disk: { totalBytes: 100e9, availableBytes: 50e9 },
    health: 'healthy',
    ...overrides,
  };
}

export interface StoredEvent {
  /** The envelope's id. */
  id: string;
  /** The JetStream message id it was stored under. */
  msgId: string;
  type: string;
  data: Record<string, unknown>;
}

/** A throwaway database and subject root, inventory instances on them, and a client bus. */
export class InventoryHarness {
  readonly root = testSubjectRoot();
  dbUrl = '';
  client!: MessageBus;
  readonly instances: RunningInventory[] = [];
  private dropDb?: () => Promise<void>;

  constructor(private readonly env: Record<string, string> = {}) {}

  async setUp(): Promise<this> {
    const db = await createTestDatabase();
    this.dbUrl = db.url;
    this.dropDb = db.drop;
    this.client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-client', subjectRoot: this.root, service: 'test' });
    await this.start();
    return this;
  }

  async start(extra: Record<string, string> = {}): Promise<RunningInventory> {
    const instance = await startInventoryService({
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: this.dbUrl,
      FLEET_SUBJECT_ROOT: this.root,
      LOG_LEVEL: 'error',
      ...this.env,
      ...extra,
    });
    this.instances.push(instance);
    return instance;
  }

  get inventory(): RunningInventory {
    return this.instances[0];
  }

  heartbeats(instance = this.inventory): HeartbeatService {
    return instance.app.get(HeartbeatService);
  }

  detector(instance = this.inventory): OfflineDetectorService {
    return instance.app.get(OfflineDetectorService);
  }

  relay(instance = this.inventory): OutboxRelay {
    return instance.app.get(OutboxRelay);
  }

  /** Reads the inventory's tables directly, to check what really reached PostgreSQL. */
  async sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.dbUrl });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  call<T>(verb: string, body: unknown): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc('inventory', verb), body);
  }

  sayHello(input: HelloInput, subjectId = input.nodeId): Promise<{ nodeId: string; registered: boolean; heartbeatIntervalSeconds: number }> {
    return this.client.request(this.client.subjects.agent(subjectId, 'hello'), input);
  }

  beat(nodeId: string, body: HeartbeatInput | unknown = heartbeat()): void {
    this.client.publish(this.client.subjects.agent(nodeId, 'heartbeat'), body);
  }

  /** Every inventory event stored on the JetStream stream so far, in stream order. */
  async events(): Promise<StoredEvent[]> {
    const nc: NatsConnection = this.client.nc;
    const jsm = await jetstreamManager(nc);
    const stream = this.client.subjects.eventsStream;
    const info = await jsm.streams.info(stream);
    if (info.state.messages === 0) return [];
    const name = `probe${Math.random().toString(36).slice(2, 10)}`;
    await jsm.consumers.add(stream, {
      name,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: 10e9,
    });
    const consumer = await jetstream(nc).consumers.get(stream, name);
    const out: StoredEvent[] = [];
    const messages = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 });
    for await (const m of messages) {
      const env = m.json<{ id: string; type: string; data: Record<string, unknown> }>();
      out.push({ id: env.id, msgId: m.headers?.get('Nats-Msg-Id') ?? '', type: env.type, data: env.data });
      if (out.length >= info.state.messages) break;
    }
    await jsm.consumers.delete(stream, name).catch(() => undefined);
    return out;
  }

  async tearDown(): Promise<void> {
    for (const instance of this.instances) await instance.close().catch(() => undefined);
    await this.client?.drain().catch(() => undefined);
    await deleteStreams(this.root);
    await this.dropDb?.();
  }
}
