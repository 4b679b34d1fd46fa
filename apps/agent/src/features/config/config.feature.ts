import { join } from 'node:path';
import type { Subscription } from '@nats-io/transport-node';
import {
  CONFIG_BUNDLE_VERB,
  CONFIG_NOTICE_TOPIC,
  CONFIG_REPORT_AREA,
  bundleSchema,
  configNoticeSchema,
  type Bundle,
  type ConfigNotice,
  type ConfigReportInput,
} from '#contracts/config';
import { encodeJson } from '#lib/messaging';
import type { AgentContext, AgentFeature } from '../../feature.js';
import { EMPTY_STATE, applyBundle, type ApplierDeps, type ApplyState } from './applier.js';
import { configFeatureSchema, type ConfigFeatureConfig } from './config.js';
import { findDrift, remediate } from './drift.js';
import { DiskFileStore, MemoryFileStore, runShell } from './file-store.js';
import { PathGuard } from './path-guard.js';
import { StateFile } from './state-file.js';

/**
 * Config files on the node. Level-triggered: the desired (revision, hash) arrives as a notice on
 * `<root>.node.<id>.config`, and the agent also asks for its bundle at start and after a
 * reconnect, so a missed notice costs nothing. One operation at a time per node (apply, drift
 * check), in order. Simulated nodes keep files in memory and skip commands.
 */
export class ConfigFeature implements AgentFeature<ConfigFeatureConfig> {
  readonly name = 'config';
  readonly configSchema = configFeatureSchema;
  private ctx?: AgentContext;
  private config?: ConfigFeatureConfig;
  private deps?: ApplierDeps;
  private stateFile?: StateFile;
  private state: ApplyState = EMPTY_STATE;
  private notice?: ConfigNotice;
  private sub?: Subscription;
  private chain: Promise<void> = Promise.resolve();
  private queued: 'sync' | 'force' | undefined;
  private retryTimer?: NodeJS.Timeout;
  private driftTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private failures = 0;
  private lastDrift = '[]';
  private stopped = false;
  private seq = 0;
  /** The state-file write in flight, if the ack did not wait for it. */
  private saving: Promise<void> = Promise.resolve();
  /** The last failed apply's report, repeated when the service asks again about that content. */
  private lastFailure?: Omit<ConfigReportInput, 'v' | 'at'>;

  async start(ctx: AgentContext, config: ConfigFeatureConfig): Promise<void> {
    if (!config.enabled) return;
    this.ctx = ctx;
    this.config = config;
    const timeoutMs = config.commandTimeoutSeconds * 1000;
    this.deps = {
      store: ctx.simulated ? new MemoryFileStore() : new DiskFileStore(),
      guard: new PathGuard(config.managedRoots, !ctx.simulated),
      run: ctx.simulated ? async () => null : (command) => runShell(command, timeoutMs),
    };
    this.stateFile = new StateFile(join(ctx.dataDir, 'config'), !ctx.simulated);
    this.state = await this.stateFile.load();
    this.sub = ctx.bus.consume(ctx.bus.subjects.node(ctx.nodeId, CONFIG_NOTICE_TOPIC), {
      name: 'agent.config-notice',
      schema: configNoticeSchema,
      queue: false,
      trace: false,
      // Notices may carry a small bundle inline; the service caps that below NATS's 1 MiB payload.
      maxBytes: 1024 * 1024,
      handler: (notice) => {
        this.notice = notice;
        this.request('sync');
      },
    });
    this.request('force');
    this.driftTimer = setInterval(() => this.enqueue(() => this.checkDrift()), config.driftIntervalSeconds * 1000);
    this.driftTimer.unref?.();
    const resyncMs = config.resyncIntervalSeconds * 1000 * (0.9 + Math.random() * 0.2);
    this.resyncTimer = setInterval(() => this.request('sync', true), resyncMs);
    this.resyncTimer.unref?.();
  }

  async onReconnect(): Promise<void> {
    this.request('sync', true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.driftTimer);
    clearInterval(this.resyncTimer);
    this.sub?.unsubscribe();
    await this.chain;
    await this.saving;
  }

  /** For tests and the simulator: what this node holds. */
  get current(): Readonly<ApplyState> {
    return this.state;
  }

  /** Queues a sync; `force` re-applies even when the hash is unchanged (start: repair files). */
  private request(kind: 'sync' | 'force', fetch = false): void {
    if (this.stopped) return;
    if (fetch) this.notice = undefined;
    const already = this.queued !== undefined;
    if (this.queued !== 'force') this.queued = kind;
    if (!already) this.enqueue(() => this.sync());
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: Error) => this.ctx?.logger.warn('config operation failed', { error: err.message }));
  }

  private async sync(): Promise<void> {
    const kind = this.queued;
    this.queued = undefined;
    if (this.stopped || !kind) return;
    const notice = this.notice;
    if (kind === 'sync' && notice && notice.hash === this.state.hash) {
      // Same content: nothing to write, but the notice is answered: the service re-sends one when
      // our ack did not reach it. A bundle that failed stays failed until the server sends
      // something else (or the agent restarts); the failure report is repeated instead.
      if (this.state.ok) this.acknowledgeRevision(notice.revision);
      else if (this.lastFailure) this.report(this.lastFailure);
      return;
    }
    let bundle: Bundle;
    try {
      // A small bundle comes inline with the notice; its hash is checked like a fetched one's.
      bundle =
        kind === 'sync' && notice?.files
          ? { v: 1, nodeId: this.ctx!.nodeId, revision: notice.revision, hash: notice.hash, files: notice.files }
          : bundleSchema.parse(await this.ctx!.bus.request(this.ctx!.bus.subjects.agent(this.ctx!.nodeId, CONFIG_BUNDLE_VERB), { v: 1 }, 10_000));
      this.failures = 0;
    } catch (err) {
      this.failures++;
      if (this.failures === 1) this.ctx!.logger.warn('cannot fetch config bundle; will retry', { error: (err as Error).message });
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.request(kind), delay);
      return;
    }
    if (bundle.nodeId !== this.ctx!.nodeId) throw new Error(`bundle is for ${bundle.nodeId}, not this node`);
    if (kind === 'sync' && bundle.hash === this.state.hash && this.state.ok) {
      if (bundle.revision !== this.state.revision) this.acknowledgeRevision(bundle.revision);
      return;
    }
    const outcome = await applyBundle(bundle, this.state, this.deps!);
    this.state = outcome.state;
    await this.saving;
    await this.stateFile!.save(this.state);
    const failed = outcome.files.filter((f) => !['written', 'unchanged', 'removed'].includes(f.result));
    if (failed.length) this.ctx!.logger.warn('config applied with problems', { revision: bundle.revision, failed });
    const ack = { kind: 'apply', revision: bundle.revision, hash: bundle.hash, ok: outcome.ok, files: outcome.files, reloads: outcome.reloads } as const;
    this.lastFailure = outcome.ok ? undefined : ack;
    this.report(ack);
  }

  /** Acknowledges content the node already has, under the revision the service now calls it. */
  private acknowledgeRevision(revision: number): void {
    if (revision !== this.state.revision) {
      this.state = { ...this.state, revision, bundle: this.state.bundle && { ...this.state.bundle, revision } };
      // Only the revision number changed: losing it in a crash costs one re-ack, so the ack does
      // not wait for it; saves still happen one after another, so an older state never lands last.
      this.saving = this.saving.then(() => this.stateFile!.save(this.state)).catch((err: Error) => this.ctx?.logger.warn('cannot save config state', { error: err.message }));
    }
    this.report({ kind: 'apply', revision, hash: this.state.hash, ok: true, files: [], reloads: [] });
  }

  /**
   * Reports drift when the set of drifted files (and what differs in each) changes. Remediation
   * is tried on every check that finds drift, so a repair that failed is retried quietly, without
   * reporting (or logging) the same drift again.
   */
  private async checkDrift(): Promise<void> {
    if (this.stopped || !this.state.bundle) return;
    const drift = await findDrift(this.state, this.deps!.store);
    const repair = drift.length && this.config!.remediateDrift ? await remediate(drift, this.state, this.deps!) : undefined;
    const key = JSON.stringify(drift);
    if (key === this.lastDrift) return;
    this.lastDrift = key;
    const remediated = !!repair && repair.failed.length === 0;
    if (drift.length) {
      this.ctx!.logger.warn('managed files drifted', { files: drift.map((d) => ({ path: d.path, kinds: d.kinds })), remediated, ...(repair?.failed.length && { notRepaired: repair.failed }) });
    }
    await this.reportDurably({ kind: 'drift', revision: this.state.revision, hash: this.state.hash, ok: this.state.ok, drift, remediated, reloads: repair?.reloads ?? [] });
  }

  /**
   * Acks travel as plain publishes into the reports stream, not JetStream publishes awaiting a
   * PubAck: while disconnected the client buffers them, and an ack lost anyway is recovered by the
   * service, which re-sends the notice of a node that has not acknowledged (and this feature
   * answers every notice). After a fleet-wide publish that saves NATS and every agent a round
   * trip per ack.
   */
  private report(body: Omit<ConfigReportInput, 'v' | 'at'>): void {
    const ctx = this.ctx!;
    const report: ConfigReportInput = { v: 1, ...body, at: new Date().toISOString() };
    try {
      ctx.bus.nc.publish(ctx.bus.subjects.agentReport(ctx.nodeId, CONFIG_REPORT_AREA), encodeJson(report));
    } catch (err) {
      // Only a closed connection throws; the agent is stopping.
      ctx.logger.warn('could not send config report', { error: (err as Error).message, kind: body.kind });
    }
  }

  /**
   * Drift reports are rare and nothing asks for them again (the next one is sent only when the
   * drift changes), so they are JetStream publishes, retried under one message id until stored.
   */
  private async reportDurably(body: Omit<ConfigReportInput, 'v' | 'at'>): Promise<void> {
    const ctx = this.ctx!;
    const report: ConfigReportInput = { v: 1, ...body, at: new Date().toISOString() };
    const msgID = `${ctx.nodeId}:${body.kind}:${body.revision}:${body.hash.slice(0, 16)}:${Date.now()}:${this.seq++}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await ctx.bus.js.publish(ctx.bus.subjects.agentReport(ctx.nodeId, CONFIG_REPORT_AREA), encodeJson(report), { msgID });
        return;
      } catch (err) {
        if (attempt >= 5 || this.stopped) {
          ctx.logger.warn('could not send config report', { error: (err as Error).message, kind: body.kind });
          // Forget what was reported, so the next check sends this drift again.
          this.lastDrift = '';
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }
}

export const configFeature = (): ConfigFeature => new ConfigFeature();
