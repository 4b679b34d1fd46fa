import { watch, type FSWatcher } from 'node:fs';
import type { Server } from 'node:http';
import type { Subscription } from '@nats-io/transport-node';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  DISCOVERY_REAPED_TOPIC,
  checkToInput,
  reapedNoticeSchema,
  resolveCheckIds,
  type AgentDiscoveryReport,
  type AgentRegister,
  type ServiceDefinition,
} from '#contracts/discovery';
import { encodeJson } from '#lib/messaging';
import type { AgentContext, AgentFeature } from '../../feature.js';
import { hash32 } from '../../simulator/prng.js';
import { CheckRunner, type CheckTransition } from './check-runner.js';
import { discoveryConfigSchema, type DiscoveryConfig } from './config.js';
import { loadDefinitionsDir, mergeDefinitions } from './definitions.js';
import { Registrar } from './registrar.js';
import { startTtlEndpoint } from './ttl-endpoint.js';

/** First non-internal IPv4 address of the machine; loopback when there is none. */
export function defaultAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** A stable private address per virtual node, so simulated instances look like a real fleet. */
function simulatedAddress(nodeId: string): string {
  const h = hash32(nodeId);
  return `10.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${(h & 253) + 1}`;
}

/**
 * Service discovery on the node: registers the machine's service definitions (full set, again on
 * every change and reconnect), runs their checks locally and reports transitions plus a periodic
 * summary to the discovery service over JetStream.
 */
export class DiscoveryFeature implements AgentFeature<DiscoveryConfig> {
  readonly name = 'discovery';
  readonly configSchema = discoveryConfigSchema;
  private ctx?: AgentContext;
  private config?: DiscoveryConfig;
  private runner?: CheckRunner;
  private watcher?: FSWatcher;
  private ttlServer?: Server;
  private timers: NodeJS.Timeout[] = [];
  private debounce?: NodeJS.Timeout;
  private registrar?: Registrar;
  private wanted = '';
  /** Every definition found, and those the catalog reaped (not registered until they change). */
  private defined: ServiceDefinition[] = [];
  private readonly suppressed = new Set<string>();
  private services: ServiceDefinition[] = [];
  private notices?: Subscription;
  private stopped = false;
  private seq = 0;
  private readonly nonce = randomBytes(4).toString('hex');
  private publishFailed = false;

  async start(ctx: AgentContext, config: DiscoveryConfig): Promise<void> {
    if (!config.enabled) return;
    this.ctx = ctx;
    this.config = config;
    const rate = ctx.simulation?.failRate ?? 0;
    this.runner = new CheckRunner({
      onTransition: (t) => this.report('transition', [t]),
      virtualProbe: ctx.simulated
        ? (serviceId, check) => {
            const draw = hash32(`${ctx.simulation?.seed ?? 0}:${ctx.nodeId}:${serviceId}:${check.id}:${Math.floor(Date.now() / 60_000)}`) / 4294967296;
            return draw < rate ? { status: 'critical', output: 'simulated failure' } : { status: 'passing', output: 'simulated' };
          }
        : undefined,
    });
    if (config.ttlListen && !ctx.simulated) {
      this.ttlServer = await startTtlEndpoint(config.ttlListen, (s, c, status, output) => this.runner!.reportTtl(s, c, status, output));
    }
    this.registrar = new Registrar(ctx, () => this.registration(), () => this.sendSummary());
    this.notices = ctx.bus.consume(ctx.bus.subjects.node(ctx.nodeId, DISCOVERY_REAPED_TOPIC), {
      name: 'agent.discovery-reaped',
      schema: reapedNoticeSchema,
      queue: false,
      handler: (notice) => this.reaped(notice.serviceIds),
    });
    await this.reload();
    if (config.servicesDir && !ctx.simulated) this.watchDir(config.servicesDir);
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    // Virtual nodes share one definition set: read once, not rescanned by thousands of timers.
    if (config.servicesDir && !ctx.simulated) every(config.rescanSeconds * 1000, () => void this.reload());
    every(config.summaryIntervalSeconds * 1000, () => this.sendSummary());
    every(config.syncSeconds * 1000, () => void this.registrar!.register(true));
  }

  async onReconnect(): Promise<void> {
    await this.registrar?.register(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.debounce);
    this.registrar?.stop();
    this.watcher?.close();
    this.notices?.unsubscribe();
    this.runner?.stop();
    await new Promise<void>((r) => (this.ttlServer ? this.ttlServer.close(() => r()) : r()));
  }

  private watchDir(dir: string): void {
    try {
      this.watcher = watch(dir, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 200);
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // No directory yet: the periodic rescan picks it up when it appears.
    }
  }

  /** Reads the definitions; re-registers when the set changed. */
  private async reload(): Promise<void> {
    const { ctx, config } = this;
    if (!ctx || !config || this.stopped) return;
    const fromDir = config.servicesDir ? await loadDefinitionsDir(config.servicesDir).catch((err: Error) => ({ services: [], problems: [err.message] })) : { services: [], problems: [] };
    const merged = mergeDefinitions(config.services, fromDir.services);
    const problems = [...fromDir.problems, ...merged.problems];
    const text = JSON.stringify(merged.services);
    if (text === this.wanted) return;
    for (const p of problems) ctx.logger.warn(`discovery: skipped a service definition: ${p}`);
    this.wanted = text;
    this.defined = merged.services;
    await this.activate();
  }

  private static key(def: ServiceDefinition): string {
    return JSON.stringify(def);
  }

  /** Registers (and checks) every defined service the catalog did not reap. */
  private async activate(): Promise<void> {
    this.services = this.defined.filter((d) => !this.suppressed.has(DiscoveryFeature.key(d)));
    this.runner!.update(this.services.map((s) => ({ serviceId: s.id ?? s.name, checks: resolveCheckIds(s.checks) })));
    // The catalog may hold older states (or none, for new instances): a summary follows each registration.
    await this.registrar!.register();
  }

  /** The catalog removed these after they stayed critical too long: stop registering them, as Consul's agent does. */
  private async reaped(serviceIds: string[]): Promise<void> {
    const ids = new Set(serviceIds);
    const hit = this.defined.filter((d) => ids.has(d.id ?? d.name));
    if (hit.length === 0) return;
    for (const d of hit) this.suppressed.add(DiscoveryFeature.key(d));
    this.ctx?.logger.warn('discovery: services removed after staying critical; not registering them until their definition changes', {
      services: hit.map((d) => d.id ?? d.name),
    });
    await this.activate();
  }

  private registration(): AgentRegister {
    const ctx = this.ctx!;
    const address = this.config!.advertiseAddress ?? (ctx.simulated ? simulatedAddress(ctx.nodeId) : defaultAddress());
    return {
      v: 1,
      group: ctx.facts().group,
      services: this.services.map((s) => ({ ...s, address: s.address ?? address, checks: s.checks.map(checkToInput) })),
    };
  }

  private sendSummary(): void {
    const checks = this.runner?.snapshot() ?? [];
    if (checks.length > 0 && this.registrar?.isRegistered) this.report('summary', checks);
  }

  /** JetStream publish, deduplicated by message id; a failure makes the next summary carry the state. */
  private report(kind: AgentDiscoveryReport['kind'], checks: CheckTransition[]): void {
    const ctx = this.ctx;
    if (!ctx || this.stopped) return;
    const body: AgentDiscoveryReport = { v: 1, kind, checks };
    const msgID = `${ctx.nodeId}-discovery-${this.nonce}-${++this.seq}`;
    ctx.bus.js.publish(ctx.bus.subjects.agentReport(ctx.nodeId, 'discovery'), encodeJson(body), { msgID }).then(
      () => {
        if (!this.publishFailed) return;
        this.publishFailed = false;
        if (kind === 'transition') this.sendSummary();
      },
      (err: Error) => {
        if (!this.publishFailed) ctx.logger.warn('discovery: report not delivered; the next summary will carry it', { error: err.message });
        this.publishFailed = true;
      },
    );
  }
}

export const discoveryFeature = (): AgentFeature => new DiscoveryFeature() as AgentFeature;
