import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Subscription } from '@nats-io/transport-node';
import { LOCK_NOTICE_TOPIC, UPDATE_NOTICE_TOPIC, desiredUpdateSchema, lockNoticeSchema } from '#contracts/updater';
import type { AgentContext, AgentFeature, FeatureFacts, FeatureFactsInput } from '../../feature.js';
import { hash32 } from '../../simulator/prng.js';
import { AbBackend } from './ab-backend.js';
import type { BootInfo } from './backend.js';
import { updatesConfigSchema, type UpdatesConfig } from './config.js';
import { runHealthChecks, type CheckResult } from './health.js';
import { NatsUpdateProtocol, fromWire, isUnavailable } from './nats-protocol.js';
import type { DesiredUpdate } from './protocol.js';
import { parsePublicKey } from './signing.js';
import { UpdateRunner, type StepResult } from './update-runner.js';
import { UpdateStateStore } from './update-state.js';

/**
 * A/B OS updates on the node: fetches its desired update (on start, reconnect, notices and a slow
 * poll), and drives the update runner through download → slot → reboot slot → reboot → health
 * checks → commit or fallback. Real agents use the `ab` backend on disk; the simulator uses the
 * same code with virtual slots, a process "reboot" and a seeded health-check failure rate.
 */
export class UpdatesFeature implements AgentFeature<UpdatesConfig> {
  readonly name = 'updates';
  readonly configSchema = updatesConfigSchema;
  private backend: AbBackend | undefined;
  private booted: Promise<BootInfo> | undefined;
  private ctx: AgentContext | undefined;
  private runner: UpdateRunner | undefined;
  private notices: Subscription[] = [];
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private noticed: DesiredUpdate | undefined;
  private lastRevision = -1;
  private protocol: NatsUpdateProtocol | undefined;
  private readonly abort = new AbortController();

  async facts(input: FeatureFactsInput<UpdatesConfig>): Promise<FeatureFacts> {
    if (!input.config.enabled) return {};
    const backend = this.backendFor(input.dataDir, input.simulated, input.config);
    // Before the first update the OS facts are the truth; afterwards the boot state is.
    if (!this.booted && !(await exists(join(input.dataDir, 'updates', 'boot-state.json')))) return {};
    await this.init(input.config.initialVersion ?? 'unknown');
    const status = backend.status();
    return { bootedSlot: status.bootedSlot, osVersion: status.bootedVersion };
  }

  async start(ctx: AgentContext, config: UpdatesConfig): Promise<void> {
    if (!config.enabled) return;
    this.ctx = ctx;
    const backend = this.backendFor(ctx.dataDir, ctx.simulated, config);
    const boot = await this.init(config.initialVersion ?? ctx.facts().osVersion);
    const trustedKeys: KeyObject[] = config.trustedKeys.map((k, i) => {
      try {
        return parsePublicKey(k);
      } catch (err) {
        throw new Error(`updates.trustedKeys[${i}]: ${(err as Error).message}`);
      }
    });
    const dir = join(ctx.dataDir, 'updates');
    this.runner = new UpdateRunner({
      backend,
      store: new UpdateStateStore(dir, !ctx.simulated),
      protocol: (this.protocol = new NatsUpdateProtocol(ctx.bus, ctx.nodeId)),
      arch: ctx.facts().arch,
      trustedKeys,
      downloadDir: join(dir, 'download'),
      downloadTimeoutMs: config.downloadTimeoutSeconds * 1000,
      simulated: ctx.simulated,
      healthCheck: (signal) => this.healthCheck(ctx, config, signal),
      onVersionChange: () => ctx.refreshHello(),
      logger: ctx.logger,
    });
    // A report that fails here (NATS still down at boot) is sent again by the loop's steps.
    await this.runner.afterBoot(boot).catch((err: Error) => ctx.logger.warn('could not report the boot outcome yet', { reason: err.message }));
    if (boot.outcome !== 'unchanged') await ctx.refreshHello().catch(() => undefined);
    this.notices.push(
      ctx.bus.consume(ctx.bus.subjects.node(ctx.nodeId, UPDATE_NOTICE_TOPIC), {
        name: 'agent.update-notice',
        schema: desiredUpdateSchema,
        queue: false,
        trace: false,
        handler: (notice) => {
          // A newer desired update is used as is; "none", or anything that could be stale
          // (notices from several replicas may cross), is checked with a fetch.
          const desired = fromWire(notice);
          this.noticed = desired && (desired.revision ?? -1) > this.lastRevision ? desired : undefined;
          this.wake();
        },
      }),
      // A reboot slot of our group was freed: ask again now rather than at the next retry.
      ctx.bus.consume(ctx.bus.subjects.node(ctx.nodeId, LOCK_NOTICE_TOPIC), {
        name: 'agent.lock-notice',
        schema: lockNoticeSchema,
        queue: false,
        trace: false,
        handler: () => this.wake(),
      }),
    );
    this.loop = this.run(config);
  }

  async onReconnect(): Promise<void> {
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const sub of this.notices) sub.unsubscribe();
    this.wake();
    await this.loop;
  }

  private async run(config: UpdatesConfig): Promise<void> {
    const runner = this.runner!;
    let failures = 0;
    while (!this.stopped) {
      let next: StepResult | 'error';
      try {
        next = await runner.step(() => this.desired(), this.abort.signal);
        failures = 0;
      } catch (err) {
        failures++;
        // No updater answering is normal (none deployed yet, or restarting): say so once per streak.
        if (!this.stopped && failures === 1) {
          const level = isUnavailable(err) ? 'debug' : 'warn';
          this.ctx?.logger[level]('update step failed; will retry', { reason: (err as Error).message, phase: runner.phase });
        }
        next = 'error';
      }
      // A process-restart "reboot" is on its way: stepping again could ask for a second restart.
      if (this.stopped || (next === 'rebooting' && (this.ctx?.simulated || config.rebootMode === 'restart'))) return;
      const seconds =
        next === 'idle' ? config.pollSeconds
        : next === 'wait' ? Math.min(runner.retryAfterSeconds ?? config.lockRetrySeconds, config.pollSeconds)
        : next === 'rebooting' ? 60
        : Math.min(30, 2 ** Math.min(failures, 5) / 2);
      await this.sleep(seconds * 1000);
    }
  }

  /** A notice carries the desired update; use it once instead of asking again. */
  private async desired(): Promise<DesiredUpdate | null> {
    const desired = this.noticed ?? (await this.protocol!.fetchDesired());
    this.noticed = undefined;
    if (desired?.revision !== undefined) this.lastRevision = Math.max(this.lastRevision, desired.revision);
    return desired;
  }

  private healthCheck(ctx: AgentContext, config: UpdatesConfig, signal: AbortSignal): Promise<CheckResult> {
    if (ctx.simulated) {
      const rate = ctx.simulation?.failRate ?? 0;
      const version = this.backend?.status().bootedVersion ?? '';
      const fails = simulatedHealthFails(ctx.simulation?.seed ?? 0, ctx.nodeId, version, rate);
      return Promise.resolve(fails ? { ok: false, name: 'simulated', reason: `simulated failure (fail rate ${rate})` } : { ok: true });
    }
    if (config.healthChecks.length === 0) return Promise.resolve({ ok: true });
    return runHealthChecks(config.healthChecks, {
      deadlineMs: config.healthDeadlineSeconds * 1000,
      intervalMs: config.healthRetrySeconds * 1000,
      signal,
    });
  }

  private backendFor(dataDir: string, simulated: boolean, config: UpdatesConfig): AbBackend {
    this.backend ??= new AbBackend({
      dir: join(dataDir, 'updates'),
      initialVersion: config.initialVersion ?? 'unknown',
      virtual: simulated,
      durable: !simulated,
      // Process-restart "reboots" make every start a boot; real ones use the kernel's boot id.
      bootId: simulated || config.rebootMode === 'restart' ? undefined : kernelBootId,
      rebootHandler: (reason) => this.reboot(config, simulated, reason),
    });
    return this.backend;
  }

  private init(initialVersion: string): Promise<BootInfo> {
    this.booted ??= this.backend!.init(initialVersion);
    return this.booted;
  }

  private async reboot(config: UpdatesConfig, simulated: boolean, reason: string): Promise<void> {
    const ctx = this.ctx!;
    if (simulated || config.rebootMode === 'restart') {
      // Not awaited: restarting stops this feature, which waits for the loop that called us.
      setTimeout(() => void ctx.restart(reason), 0);
      return;
    }
    ctx.logger.warn('rebooting for an OS update', { reason, command: config.rebootCommand });
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', config.rebootCommand], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reboot command exited with ${code}`))));
    });
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.woken = false;
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      timer = setTimeout(done, ms);
    });
  }
}

async function kernelBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'no-boot-id';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export const updatesFeature = (): UpdatesFeature => new UpdatesFeature();

/**
 * Whether a simulated node's health check fails after booting `version`: a draw from the run's
 * seed, the node and the version, so a run is reproducible and tests can predict it.
 */
export function simulatedHealthFails(seed: number, nodeId: string, version: string, failRate: number): boolean {
  return hash32(`${seed}:${nodeId}:${version}`) / 4294967296 < failRate;
}
