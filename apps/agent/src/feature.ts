import type { z } from 'zod';
import type { MessageBus } from '#lib/messaging';
import type { JsonLogger } from '#lib/telemetry';

/**
 * The agent core (identity, hello, heartbeats, reconnects) is small; everything else an agent
 * does (A/B OS updates, config files, service checks) is a feature that plugs in here. Each
 * feature owns one section of the agent config file, validated by its own schema, and gets the
 * same context whether it runs in a real agent or in one virtual node of the simulator.
 */
export interface AgentContext {
  nodeId: string;
  /** Shared connection; in the simulator, one connection serves every virtual node. */
  bus: MessageBus;
  /** Root of the agent's persistent state; features use `<dataDir>/<feature>/`. */
  dataDir: string;
  logger: JsonLogger;
  /** True in `fleet-agent simulate`: no real reboots, slots or files outside dataDir. */
  simulated: boolean;
  /** Facts the agent last sent in hello (group, labels, channel, arch, OS version...). */
  facts(): AgentFacts;
  /** Ask the core to send hello again (e.g. after the OS version changed). */
  refreshHello(): Promise<void>;
  /** Ask the core to restart the agent process (the simulator restarts the virtual node). */
  restart(reason: string): Promise<void>;
  /**
   * Set in the simulator only: `failRate` (0..1) is the share of simulated operations (e.g. the
   * post-update health check) that should fail, decided with a PRNG seeded from `seed` + node id
   * so a run is reproducible.
   */
  simulation?: SimulationSettings;
}

export interface SimulationSettings {
  failRate: number;
  seed: number;
}

/** What a feature may contribute to the hello facts (e.g. the updates feature knows the slot). */
export interface FeatureFacts {
  bootedSlot?: 'a' | 'b' | null;
  osName?: string;
  osVersion?: string;
}

/** What `AgentFeature.facts()` gets: it can be asked before `start()` (the first hello). */
export interface FeatureFactsInput<C = unknown> {
  nodeId: string;
  dataDir: string;
  simulated: boolean;
  simulation?: SimulationSettings;
  config: C;
}

export interface AgentFacts {
  nodeId: string;
  hostname: string;
  group: string;
  channel: string;
  arch: string;
  labels: Record<string, string>;
  osName: string;
  osVersion: string;
  bootedSlot: 'a' | 'b' | null;
}

export interface AgentFeature<C = unknown> {
  /** Also the config file section's key: `updates`, `config`, `discovery`. */
  readonly name: string;
  /** Schema of the feature's config section, with defaults; unknown keys must be rejected (strict). */
  readonly configSchema: z.ZodType<C>;
  /** Called once connected and after the first successful hello. */
  start(ctx: AgentContext, config: C): Promise<void>;
  /**
   * Optional: facts this feature knows, merged over the core's before every hello (so before
   * `start()` too). Keep it cheap: in the simulator it runs for every virtual node.
   */
  facts?(input: FeatureFactsInput<C>): FeatureFacts | Promise<FeatureFacts>;
  /** Called after a NATS reconnect, so the feature can re-read its desired state. */
  onReconnect?(): Promise<void>;
  /** Called on shutdown; release timers, subscriptions and files. */
  stop(): Promise<void>;
}

/** Builds a fresh feature instance per node (the simulator runs thousands side by side). */
export type AgentFeatureFactory = () => AgentFeature;
