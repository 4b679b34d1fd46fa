import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetSummary, NodeView } from '#contracts/inventory';
import { z } from 'zod';
import { MessageBus } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import type { AgentContext, AgentFeature, FeatureFacts } from '../../../apps/agent/src/feature.js';
import { AgentRuntime, newCounters, type AgentRuntimeOptions } from '../../../apps/agent/src/runtime/agent-runtime.js';
import { Scheduler } from '../../../apps/agent/src/runtime/scheduler.js';
import { createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../../support/infra.js';
import { freePort } from '../../support/processes.js';

/** A throwaway database and subject root with the real inventory service, started on demand. */
export class AgentTestBed {
  readonly root = testSubjectRoot();
  dbUrl = '';
  client!: MessageBus;
  inventory: RunningInventory | undefined;
  private dropDb?: () => Promise<void>;

  constructor(
    readonly natsUrl: string,
    private readonly env: Record<string, string> = {},
  ) {}

  async setUp(options: { startInventory?: boolean } = {}): Promise<this> {
    const db = await createTestDatabase();
    this.dbUrl = db.url;
    this.dropDb = db.drop;
    this.client = await MessageBus.connect({ url: this.natsUrl, name: 'agent-test-client', subjectRoot: this.root, service: 'test' });
    if (options.startInventory !== false) await this.startInventory();
    return this;
  }

  async startInventory(): Promise<RunningInventory> {
    this.inventory = await startInventoryService({
      NATS_URL: this.natsUrl,
      DATABASE_URL: this.dbUrl,
      FLEET_SUBJECT_ROOT: this.root,
      LOG_LEVEL: 'error',
      HEARTBEAT_INTERVAL_SECONDS: '0.3',
      HEARTBEAT_FLUSH_MS: '50',
      HELLO_AGAIN_MIN_INTERVAL_MS: '100',
      ...this.env,
    });
    return this.inventory;
  }

  call<T>(verb: string, body: unknown): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc('inventory', verb), body);
  }

  node(id: string): Promise<NodeView | undefined> {
    return this.call<NodeView>('get', { id }).catch(() => undefined);
  }

  summary(): Promise<FleetSummary> {
    return this.call<FleetSummary>('summary', {});
  }

  async tearDown(): Promise<void> {
    await this.inventory?.close().catch(() => undefined);
    await this.client?.drain().catch(() => undefined);
    await deleteStreams(this.root).catch(() => undefined);
    await this.dropDb?.();
  }
}

/** A feature that records what the core did with it. */
export class RecordingFeature implements AgentFeature<{ note: string }> {
  readonly name = 'recording';
  readonly configSchema = z.strictObject({ note: z.string().default('hi') });
  readonly calls: string[] = [];
  context: AgentContext | undefined;

  async facts(): Promise<FeatureFacts> {
    this.calls.push('facts');
    return { bootedSlot: 'b', osVersion: '4081.3.0' };
  }
  async start(ctx: AgentContext): Promise<void> {
    this.calls.push('start');
    this.context = ctx;
  }
  async onReconnect(): Promise<void> {
    this.calls.push('reconnect');
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
}

/** One runtime as the real agent builds it, with test-sized timings. */
export function testRuntime(
  bus: MessageBus,
  nodeId: string,
  overrides: Partial<AgentRuntimeOptions> = {},
): { runtime: AgentRuntime; scheduler: Scheduler } {
  const scheduler = new Scheduler();
  const runtime = new AgentRuntime({
    bus,
    scheduler,
    nodeId,
    dataDir: join(tmpdir(), 'fleet-agent-test', nodeId),
    simulated: false,
    logger: new JsonLogger('fleet-agent', nodeId),
    identity: { group: 'edge', channel: 'beta', labels: { zone: 'a' } },
    host: {
      hostname: `${nodeId}.test`,
      arch: 'x86_64',
      os: { name: 'Fleet Linux', version: '4081.2.0' },
      kernel: '6.6.21',
      runtimes: [{ name: 'containerd', version: '1.7.13' }],
      bootId: 'boot-1',
    },
    agentVersion: '0.1.0',
    status: {
      sample: () => ({
        uptimeSeconds: 5,
        load: [0.5, 0.4, 0.3],
        memory: { totalBytes: 8e9, availableBytes: 4e9 },
        disk: { totalBytes: 100e9, availableBytes: 60e9 },
      }),
    },
    features: [],
    heartbeatIntervalSeconds: 60,
    helloTimeoutMs: 1000,
    backoff: { initialMs: 100, maxMs: 400 },
    counters: newCounters(),
    onRestart: async () => undefined,
    ...overrides,
  });
  return { runtime, scheduler };
}

export { eventually };


function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private nats-server (with JetStream) that a test may stop and start again on the same port,
 * to drive real disconnects and reconnects without disturbing the shared server.
 */
export class PrivateNats {
  private child: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'fleet-nats-'));
  port = 0;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `extraArgs` e.g. `['-c', configFile]` for a server with users and permissions. */
  async start(extraArgs: string[] = []): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    this.child = spawn('nats-server', [...extraArgs, '-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: 'ignore' });
    await eventually(() => portOpen(this.port), 10_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
