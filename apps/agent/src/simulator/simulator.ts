import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause } from '#lib/telemetry';
import { parseOrThrow } from '#contracts/common';
import type { AgentFeature, AgentFeatureFactory } from '../feature.js';
import { agentFeatures } from '../features/index.js';
import { AgentRuntime, newCounters, type RuntimeCounters } from '../runtime/agent-runtime.js';
import { Limiter } from '../runtime/limiter.js';
import { Scheduler } from '../runtime/scheduler.js';
import { agentVersion } from '../version.js';
import { VirtualStatus, virtualHost, virtualIdentity } from './virtual-node.js';

export interface SimulatorOptions {
  nodes: number;
  /** Node ids are `<prefix><n>`, n from `firstIndex` (default 1). */
  prefix?: string;
  firstIndex?: number;
  natsUrl?: string;
  natsCredentials?: string;
  subjectRoot?: string;
  /** Nodes are spread round-robin over this many groups (`group-0`…); 1 means `default`. */
  groups?: number;
  channel?: string;
  /** Used until the inventory's hello reply says otherwise. */
  heartbeatIntervalSeconds?: number;
  /** Each node's state lives in `<dataDir>/<nodeId>/`. */
  dataDir?: string;
  /** Passed to features as `simulation.failRate` (share of simulated operations that fail). */
  failRate?: number;
  seed?: number;
  os?: { name: string; version: string };
  /** NATS connections shared by the nodes (default: one per 5,000 nodes). */
  connections?: number;
  /** Hellos in flight at once per connection. */
  helloConcurrency?: number;
  helloTimeoutMs?: number;
  features?: AgentFeatureFactory[];
  /** Config section per feature name, as in the agent config file; validated by the feature. */
  featureConfig?: Record<string, unknown>;
}

export interface SimulatorStats extends RuntimeCounters {
  nodes: number;
  connections: number;
  restarts: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

export interface Simulator {
  nodeIds: string[];
  stats(): SimulatorStats;
  /** Resolves once every virtual node has completed a hello. */
  allRegistered(): Promise<void>;
  stop(): Promise<void>;
}

interface Slot {
  index: number;
  nodeId: string;
  bus: MessageBus;
  limiter: Limiter;
  runtime: AgentRuntime;
}

/**
 * N virtual agents in one process, each indistinguishable from a real agent on the wire (same
 * subjects, same messages, its own hello-again subscription and features), sharing a few NATS
 * connections, one scheduler and a bounded number of hellos in flight.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new Error('nodes must be a positive integer');
  const prefix = options.prefix ?? 'sim-';
  const firstIndex = options.firstIndex ?? 1;
  const groups = options.groups ?? 4;
  const channel = options.channel ?? 'stable';
  const heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ?? 10;
  const dataDir = options.dataDir ?? join(tmpdir(), 'fleet-agent-sim');
  const simulation = { failRate: options.failRate ?? 0, seed: options.seed ?? 1 };
  const os = options.os ?? { name: 'Fleetcore Linux', version: '1.0.0' };
  const factories = options.features ?? agentFeatures;
  const connectionCount = options.connections ?? Math.max(1, Math.ceil(options.nodes / 5000));
  const logger = new JsonLogger('fleet-agent', 'simulator');
  const problems = new OncePerCause(logger);
  const counters = newCounters();
  let restarts = 0;
  let stopped = false;

  // Feature configs are validated once and shared read-only by every node.
  const featureConfigs = new Map<string, unknown>();
  for (const make of factories) {
    const feature = make();
    const section = options.featureConfig?.[feature.name] ?? {};
    featureConfigs.set(feature.name, parseOrThrow(feature.configSchema, section, `${feature.name} config`));
  }

  const buses = await Promise.all(
    Array.from({ length: connectionCount }, (_, i) =>
      MessageBus.connect({
        url: options.natsUrl ?? 'nats://127.0.0.1:4222',
        credentials: options.natsCredentials,
        name: `fleet-agent-sim:${prefix}:${i}`,
        subjectRoot: options.subjectRoot ?? 'fleet',
        service: 'agent',
        logger,
        noAsyncTraces: true,
      }),
    ),
  );
  const limiters = buses.map(() => new Limiter(options.helloConcurrency ?? 200));
  const scheduler = new Scheduler({ onError: (err) => problems.warn('scheduler', 'scheduled task failed', { error: String(err) }) });

  const slots: Slot[] = [];
  const makeRuntime = (index: number, nodeId: string, bus: MessageBus, limiter: Limiter): AgentRuntime => {
    const features: AgentFeature[] = factories.map((make) => make());
    const runtime: AgentRuntime = new AgentRuntime({
      bus,
      scheduler,
      nodeId,
      dataDir: join(dataDir, nodeId),
      simulated: true,
      simulation,
      logger: logger.child(nodeId),
      identity: virtualIdentity(index, groups, channel),
      host: virtualHost(nodeId, index, os),
      agentVersion: agentVersion(),
      status: new VirtualStatus(nodeId, index),
      features: features.map((feature) => ({ feature, config: featureConfigs.get(feature.name) })),
      heartbeatIntervalSeconds,
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      limiter,
      counters,
      problems,
      // A simulated restart is a virtual reboot: new boot id, uptime from zero, features anew.
      onRestart: async () => {
        if (stopped) return;
        restarts++;
        const slot = slots[index];
        await slot.runtime.stop();
        if (stopped) return;
        if (slot.runtime.registered) counters.registered--;
        slot.runtime = makeRuntime(index, nodeId, bus, limiter);
        slot.runtime.start();
      },
    });
    return runtime;
  };

  for (let i = 0; i < options.nodes; i++) {
    const nodeId = `${prefix}${firstIndex + i}`;
    const bus = buses[i % buses.length];
    const limiter = limiters[i % buses.length];
    slots.push({ index: i, nodeId, bus, limiter, runtime: makeRuntime(i, nodeId, bus, limiter) });
  }

  buses.forEach((bus) => {
    void (async () => {
      for await (const status of bus.nc.status()) {
        if (status.type !== 'reconnect' || stopped) continue;
        for (const slot of slots) if (slot.bus === bus) slot.runtime.reconnected();
      }
    })().catch(() => undefined);
  });

  for (const slot of slots) slot.runtime.start();

  return {
    nodeIds: slots.map((s) => s.nodeId),
    stats: () => {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        ...counters,
        nodes: slots.length,
        connections: buses.length,
        restarts,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        cpuUserMicros: cpu.user,
        cpuSystemMicros: cpu.system,
      };
    },
    allRegistered: async () => {
      await Promise.all(slots.map((s) => s.runtime.firstHello));
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(slots.map((s) => s.runtime.stop()));
      scheduler.stop();
      await Promise.all(buses.map((b) => b.drain().catch(() => undefined)));
    },
  };
}
