import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AGENT_DISCOVERY_REGISTER, type AgentRegister, type AgentRegisterReply } from '#contracts/discovery';
import type { AgentContext } from '../../feature.js';

/**
 * Sends the node's full set of services to `<root>.agent.<nodeId>.discovery.register`:
 * one registration at a time (an older set never overtakes a newer one), retried with backoff
 * until the discovery service answers, skipped when the set is the one last registered.
 * `<dataDir>/discovery/registered` marks that the catalog may hold this node's services, so a
 * node that never had any sends nothing at all.
 */
export class Registrar {
  private chain: Promise<void> = Promise.resolve();
  private registered = '';
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly body: () => AgentRegister,
    private readonly onRegistered: () => void,
  ) {}

  get isRegistered(): boolean {
    return this.registered !== '';
  }

  /** Registers the current set (again, with `force`: anti-entropy, reconnects). */
  register(force = false, attempt = 0): Promise<void> {
    if (force) this.registered = '';
    this.chain = this.chain.then(() => this.registerNow(attempt));
    return this.chain;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private get marker(): string {
    return join(this.ctx.dataDir, 'discovery', 'registered');
  }

  private async registerNow(attempt: number): Promise<void> {
    const ctx = this.ctx;
    if (this.stopped) return;
    clearTimeout(this.retry);
    const body = this.body();
    const text = JSON.stringify(body);
    if (text === this.registered) return;
    if (body.services.length === 0 && !(await this.hasMarker())) {
      this.registered = text;
      return;
    }
    try {
      const reply = await ctx.bus.request<AgentRegisterReply>(ctx.bus.subjects.agent(ctx.nodeId, AGENT_DISCOVERY_REGISTER), body, 10_000);
      this.registered = text;
      await this.mark(body.services.length > 0);
      if (reply.removed.length > 0) ctx.logger.info('discovery: deregistered removed services', { instances: reply.removed });
      this.onRegistered();
    } catch (err) {
      // An empty set only clears what a previous run registered: one try is enough.
      if (this.stopped || body.services.length === 0) return;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      if (attempt === 0) ctx.logger.warn('discovery: registration failed; retrying', { error: (err as Error).message });
      this.retry = setTimeout(() => void this.register(false, attempt + 1), delay);
      this.retry.unref();
    }
  }

  private hasMarker(): Promise<boolean> {
    return access(this.marker).then(
      () => true,
      () => false,
    );
  }

  private async mark(some: boolean): Promise<void> {
    try {
      if (some) {
        await mkdir(dirname(this.marker), { recursive: true });
        await writeFile(this.marker, new Date().toISOString());
      } else {
        await rm(this.marker, { force: true });
      }
    } catch (err) {
      this.ctx.logger.warn('discovery: cannot write the registration marker', { error: (err as Error).message });
    }
  }
}
