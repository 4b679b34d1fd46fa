import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import pg from 'pg';
import { MessageBus } from '#lib/messaging';
import {
  DISCOVERY,
  type InstanceView,
  type InstancesReply,
  type RegisterInstance,
  type ServiceChangedEvent,
} from '#contracts/discovery';
import { startDiscoveryService, type RunningDiscovery } from '../../../apps/discovery/src/main.js';
import { DiscoveryRuntime } from '../../../apps/discovery/src/discovery.runtime.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, testSubjectRoot } from '../../support/infra.js';

/** A fluent factory for API registrations: `apiInstance('web', { tags: ['v2'] })`. */
export function apiInstance(name: string, overrides: Partial<RegisterInstance> = {}): RegisterInstance {
  return { name, address: '10.0.0.1', port: 8080, ...overrides };
}

/** Throwaway database and subject root, discovery replicas on them, and a client bus. */
export class DiscoveryHarness {
  readonly root = testSubjectRoot();
  dbUrl = '';
  client!: MessageBus;
  readonly replicas: RunningDiscovery[] = [];
  readonly events: ServiceChangedEvent[] = [];
  private eventSub?: Subscription;
  private dropDb?: () => Promise<void>;

  constructor(private readonly env: Record<string, string> = {}) {}

  async setUp(replicas = 1): Promise<this> {
    const db = await createTestDatabase();
    this.dbUrl = db.url;
    this.dropDb = db.drop;
    this.client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-client', subjectRoot: this.root, service: 'test' });
    // Every change event, as a watcher would see it.
    this.eventSub = this.client.nc.subscribe(this.client.subjects.event(DISCOVERY, 'service.*'), {
      callback: (_err, msg) => {
        this.events.push(msg.json<{ data: ServiceChangedEvent }>().data);
      },
    });
    for (let i = 0; i < replicas; i++) await this.start();
    return this;
  }

  async start(extra: Record<string, string> = {}): Promise<RunningDiscovery> {
    const replica = await startDiscoveryService({
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: this.dbUrl,
      FLEET_SUBJECT_ROOT: this.root,
      LOG_LEVEL: 'error',
      DNS_PORT: '0',
      DISCOVERY_SWEEP_MS: '100',
      DISCOVERY_LEADER_RETRY_MS: '200',
      FLEET_SELF_REGISTER: 'false',
      ...this.env,
      ...extra,
    });
    this.replicas.push(replica);
    return replica;
  }

  runtime(replica: RunningDiscovery = this.replicas[0]): DiscoveryRuntime {
    return replica.app.get(DiscoveryRuntime);
  }

  get nc(): NatsConnection {
    return this.client.nc;
  }

  call<T>(verb: string, body: unknown, timeoutMs = 5000): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc(DISCOVERY, verb), body, timeoutMs);
  }

  instances(service: string, extra: Record<string, unknown> = {}, timeoutMs = 5000): Promise<InstancesReply> {
    return this.call<InstancesReply>('instances', { service, ...extra }, timeoutMs);
  }

  async instance(service: string, id: string): Promise<InstanceView | undefined> {
    return (await this.instances(service)).instances.find((i) => i.id === id);
  }

  eventsFor(service: string): ServiceChangedEvent[] {
    return this.events.filter((e) => e.service === service);
  }

  async sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.dbUrl });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async tearDown(): Promise<void> {
    for (const r of this.replicas) await r.close().catch(() => undefined);
    this.eventSub?.unsubscribe();
    await this.client?.drain().catch(() => undefined);
    await deleteStreams(this.root);
    await this.dropDb?.();
  }
}
