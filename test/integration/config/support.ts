import pg from 'pg';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { CONFIG, CONFIG_BUNDLE_VERB, CONFIG_NOTICE_TOPIC, CONFIG_REPORT_AREA, configNoticeSchema, type Bundle, type ConfigNotice, type ConfigReportInput } from '#contracts/config';
import { INVENTORY, type HelloInput } from '#contracts/inventory';
import { MessageBus, encodeJson } from '#lib/messaging';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { startConfigService, type RunningConfig } from '../../../apps/config/src/main.js';
import { DesiredStateService } from '../../../apps/config/src/nodes/desired-state.service.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, testSubjectRoot } from '../../support/infra.js';

export function hello(nodeId: string, overrides: Partial<HelloInput> = {}): HelloInput {
  return {
    v: 1,
    nodeId,
    hostname: `${nodeId}.test`,
    labels: {},
    group: 'default',
    channel: 'stable',
    arch: 'amd64',
    os: { name: 'Fleet Linux', version: '1.0.0' },
    agentVersion: '0.1.0',
    ...overrides,
  };
}

/** Real inventory + real config service on a private database and subject root, and a client. */
export class ConfigHarness {
  readonly root = testSubjectRoot();
  dbUrl = '';
  client!: MessageBus;
  inventory!: RunningInventory;
  config!: RunningConfig;
  private dropDb?: () => Promise<void>;
  private readonly subs: Subscription[] = [];

  constructor(private readonly env: Record<string, string> = {}) {}

  async setUp(): Promise<this> {
    const db = await createTestDatabase();
    this.dbUrl = db.url;
    this.dropDb = db.drop;
    this.client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'config-test', subjectRoot: this.root, service: 'test' });
    const env = { NATS_URL: TEST_NATS_URL, DATABASE_URL: this.dbUrl, FLEET_SUBJECT_ROOT: this.root, LOG_LEVEL: 'error' };
    this.inventory = await startInventoryService(env);
    this.config = await startConfigService({ ...env, CONFIG_ALLOWED_ROOTS: '/etc,/opt/app', ...this.env });
    return this;
  }

  async tearDown(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await this.config?.close();
    await this.inventory?.close();
    await this.client?.drain();
    await deleteStreams(this.root);
    await this.dropDb?.();
  }

  call<T = unknown>(verb: string, body: unknown = {}): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc(CONFIG, verb), body, 10_000);
  }

  inventoryCall<T = unknown>(verb: string, body: unknown): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc(INVENTORY, verb), body, 10_000);
  }

  /** Registers a node with the real inventory, as its agent's hello would. */
  sayHello(h: HelloInput): Promise<unknown> {
    return this.client.request(this.client.subjects.agent(h.nodeId, 'hello'), h, 10_000);
  }

  /** Collects the notices the platform sends to a node. */
  notices(nodeId: string): ConfigNotice[] {
    const seen: ConfigNotice[] = [];
    const sub = this.client.nc.subscribe(this.client.subjects.node(nodeId, CONFIG_NOTICE_TOPIC), {
      callback: (_e, m) => {
        seen.push(configNoticeSchema.parse(m.json()));
      },
    });
    this.subs.push(sub);
    return seen;
  }

  bundle(nodeId: string): Promise<Bundle> {
    return this.client.request<Bundle>(this.client.subjects.agent(nodeId, CONFIG_BUNDLE_VERB), { v: 1 }, 10_000);
  }

  async report(nodeId: string, report: ConfigReportInput): Promise<void> {
    await this.client.js.publish(this.client.subjects.agentReport(nodeId, CONFIG_REPORT_AREA), encodeJson(report));
  }

  get nc(): NatsConnection {
    return this.client.nc;
  }

  idle(): Promise<void> {
    return this.config.app.get(DesiredStateService).idle();
  }

  async sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: this.dbUrl });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  }
}
