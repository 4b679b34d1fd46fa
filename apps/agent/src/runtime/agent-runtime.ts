import { mkdir } from 'node:fs/promises';
import type { Subscription } from '@nats-io/transport-node';
import { FleetError, parseOrThrow } from '#contracts/common';
import {
  helloAgainSchema,
  helloReplySchema,
  type HeartbeatInput,
  type HelloInput,
  type HelloReply,
  type Health,
} from '#contracts/inventory';
import type { MessageBus } from '#lib/messaging';
import type { JsonLogger, OncePerCause } from '#lib/telemetry';
import type { AgentContext, AgentFacts, AgentFeature, SimulationSettings } from '../feature.js';
import type { HostFacts } from '../facts/host-facts.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { collectFeatureFacts, composeFacts, helloMessage, type NodeIdentity } from './hello-builder.js';
import type { StatusSource } from './host-status.js';
import type { Limiter } from './limiter.js';
import type { Scheduler, ScheduledTask } from './scheduler.js';

/** Counters shared by every runtime of a process (one in a real agent, thousands in the simulator). */
export interface RuntimeCounters {
  hellos: number;
  helloFailures: number;
  /** Nodes that completed at least one hello. */
  registered: number;
  heartbeats: number;
  helloAgain: number;
  reconnects: number;
}

export function newCounters(): RuntimeCounters {
  return { hellos: 0, helloFailures: 0, registered: 0, heartbeats: 0, helloAgain: 0, reconnects: 0 };
}

export interface AgentRuntimeOptions {
  bus: MessageBus;
  scheduler: Scheduler;
  nodeId: string;
  dataDir: string;
  simulated: boolean;
  simulation?: SimulationSettings;
  logger: JsonLogger;
  identity: NodeIdentity;
  /** Facts of the machine (or of the virtual node); features may override OS and slot. */
  host: HostFacts;
  agentVersion: string;
  status: StatusSource;
  features: ReadonlyArray<{ feature: AgentFeature; config: unknown }>;
  /** Used until the inventory's hello reply says otherwise. */
  heartbeatIntervalSeconds: number;
  helloTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Bounds concurrent hellos across many runtimes sharing a connection. */
  limiter?: Limiter;
  counters?: RuntimeCounters;
  /** When set, failures are logged once per cause (the simulator); otherwise every failure. */
  problems?: OncePerCause;
  random?: () => number;
  /** What `AgentContext.restart` does: exit the process, or restart the virtual node. */
  onRestart(reason: string): Promise<void>;
}

/**
 * One agent's life on the wire: hello (retried with capped, jittered backoff) → heartbeats on the
 * interval the inventory chose → hello again after every reconnect and on `hello-again` notices,
 * with the registered features started after the first hello. The same class runs a real agent
 * and each virtual node of the simulator; only the bus, host facts and status source differ.
 */
export class AgentRuntime {
  readonly counters: RuntimeCounters;
  private heartbeatTask: ScheduledTask | undefined;
  private intervalMs: number;
  private helloRunning: Promise<void> | undefined;
  private helloWanted = false;
  private sleeping: { cancel(): void } | undefined;
  private helloAgainSub: Subscription | undefined;
  private featuresStarted: Promise<void> | undefined;
  private failedFeatures = 0;
  private beating = false;
  private stopped = false;
  private everRegistered = false;
  private lastFacts: AgentFacts;
  private readonly context: AgentContext;
  private readonly heartbeatSubject: string;
  private resolveFirstHello!: () => void;
  /** Resolves after the first successful hello. */
  readonly firstHello = new Promise<void>((r) => (this.resolveFirstHello = r));

  constructor(private readonly options: AgentRuntimeOptions) {
    this.counters = options.counters ?? newCounters();
    this.intervalMs = options.heartbeatIntervalSeconds * 1000;
    this.heartbeatSubject = options.bus.subjects.agent(options.nodeId, 'heartbeat');
    this.lastFacts = composeFacts(options.nodeId, options.host, options.identity, {});
    this.context = {
      nodeId: options.nodeId,
      bus: options.bus,
      dataDir: options.dataDir,
      logger: options.logger,
      simulated: options.simulated,
      simulation: options.simulation,
      facts: () => this.lastFacts,
      refreshHello: () => this.refreshHello(),
      restart: (reason) => options.onRestart(reason),
    };
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get registered(): boolean {
    return this.everRegistered;
  }

  get heartbeatIntervalMs(): number {
    return this.intervalMs;
  }

  facts(): AgentFacts {
    return this.lastFacts;
  }

  /** Listens for `hello-again` notices and starts saying hello; returns at once. */
  start(): void {
    const { bus, nodeId } = this.options;
    this.helloAgainSub = bus.consume(bus.subjects.node(nodeId, 'hello-again'), {
      name: 'agent.hello-again',
      schema: helloAgainSchema,
      queue: false,
      trace: false,
      maxBytes: 4096,
      handler: ({ reason }) => {
        this.counters.helloAgain++;
        this.log('info', 'inventory asked for hello again', { reason });
        void this.refreshHello();
      },
    });
    void this.refreshHello();
  }

  /** Sends hello now (or right after the one in flight); resolves once one has succeeded. */
  refreshHello(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.helloWanted = true;
    this.helloRunning ??= this.helloLoop();
    return this.helloRunning;
  }

  /** The connection came back: say hello again, then let the features re-read their state. */
  reconnected(): void {
    if (this.stopped) return;
    this.counters.reconnects++;
    void this.refreshHello().then(async () => {
      await this.featuresStarted;
      for (const { feature } of this.options.features) {
        try {
          await feature.onReconnect?.();
        } catch (err) {
          this.log('warn', `feature ${feature.name} failed to handle the reconnect`, { error: (err as Error).message });
        }
      }
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.heartbeatTask?.cancel();
    this.sleeping?.cancel();
    this.helloAgainSub?.unsubscribe();
    await this.featuresStarted;
    for (const { feature } of [...this.options.features].reverse()) {
      try {
        await feature.stop();
      } catch (err) {
        this.log('warn', `feature ${feature.name} failed to stop`, { error: (err as Error).message });
      }
    }
  }

  private async helloLoop(): Promise<void> {
    let attempt = 0;
    for (;;) {
      if (this.stopped) break;
      this.helloWanted = false;
      try {
        const reply = await this.sendHello();
        attempt = 0;
        this.afterHello(reply);
        if (!this.helloWanted) break;
      } catch (err) {
        if (this.stopped) break;
        this.counters.helloFailures++;
        const delay = backoffDelay(attempt++, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
        const code = err instanceof FleetError ? err.code : 'error';
        if (this.options.problems) {
          this.options.problems.warn(`hello:${code}`, 'hello failed; retrying with backoff', { code, reason: (err as Error).message });
        } else {
          this.log('warn', 'hello failed; retrying', { code, reason: (err as Error).message, retryInMs: delay });
        }
        const sleep = this.options.scheduler.sleep(delay);
        this.sleeping = sleep;
        await sleep.done;
        this.sleeping = undefined;
      }
    }
    // Cleared synchronously with the decision to stop, so a refreshHello() racing the exit
    // starts a new loop rather than joining one that has finished.
    this.helloRunning = undefined;
  }

  private async sendHello(): Promise<HelloReply> {
    const send = async () => {
      const hello = await this.buildHello();
      const { bus, nodeId } = this.options;
      const data = await bus.request(bus.subjects.agent(nodeId, 'hello'), hello, this.options.helloTimeoutMs ?? 5000);
      return parseOrThrow(helloReplySchema, data, 'hello reply');
    };
    this.counters.hellos++;
    return this.options.limiter ? this.options.limiter.run(send) : send();
  }

  private afterHello(reply: HelloReply): void {
    if (this.stopped) return; // stop() raced the reply: start nothing new
    if (!this.everRegistered) {
      this.everRegistered = true;
      this.counters.registered++;
      this.resolveFirstHello();
      this.log('info', reply.registered ? 'registered with the inventory' : 'known to the inventory', {
        heartbeatIntervalSeconds: reply.heartbeatIntervalSeconds,
      });
    }
    // The inventory's interval wins: its offline detection counts missed heartbeats of that length.
    const intervalMs = Math.round(reply.heartbeatIntervalSeconds * 1000);
    if (!this.heartbeatTask) {
      this.intervalMs = intervalMs;
      this.heartbeatTask = this.options.scheduler.every(intervalMs, () => void this.beat());
    } else if (intervalMs !== this.intervalMs) {
      this.intervalMs = intervalMs;
      this.heartbeatTask.cancel();
      this.heartbeatTask = this.options.scheduler.every(intervalMs, () => void this.beat());
    }
    this.featuresStarted ??= this.startFeatures();
  }

  private async startFeatures(): Promise<void> {
    if (this.options.features.length === 0) return;
    await mkdir(this.options.dataDir, { recursive: true }).catch(() => undefined);
    for (const { feature, config } of this.options.features) {
      if (this.stopped) return;
      try {
        await feature.start(this.context, config);
      } catch (err) {
        this.failedFeatures++;
        this.log('error', `feature ${feature.name} failed to start`, { error: (err as Error).message });
      }
    }
  }

  private async beat(): Promise<void> {
    if (this.beating || this.stopped || !this.options.bus.isConnected) return;
    this.beating = true;
    try {
      const sample = await this.options.status.sample();
      const health: Health = this.failedFeatures > 0 ? 'degraded' : 'healthy';
      const heartbeat: HeartbeatInput = { v: 1, ...sample, health, osVersion: this.lastFacts.osVersion };
      this.options.bus.publish(this.heartbeatSubject, heartbeat);
      this.counters.heartbeats++;
    } catch (err) {
      this.log('warn', 'heartbeat failed', { error: (err as Error).message });
    } finally {
      this.beating = false;
    }
  }

  private async buildHello(): Promise<HelloInput> {
    const { nodeId, dataDir, simulated, simulation, host, identity, features } = this.options;
    const extra = await collectFeatureFacts(features, { nodeId, dataDir, simulated, simulation }, (name, err) =>
      this.log('warn', `feature ${name} failed to report facts`, { error: err.message }),
    );
    this.lastFacts = composeFacts(nodeId, host, identity, extra);
    return helloMessage(this.lastFacts, host, this.options.agentVersion);
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    if (this.options.problems && level === 'info') return; // the simulator prints its own progress
    this.options.logger[level](message, { nodeId: this.options.nodeId, ...fields });
  }
}
