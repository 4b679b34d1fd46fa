import type { Subscription } from '@nats-io/transport-node';
import type { MessageBus } from '#lib/messaging';
import { encodeJson } from '#lib/messaging';
import type { HelloInput } from '#contracts/inventory';
import {
  AGENT_UPDATE_VERBS,
  LOCK_NOTICE_TOPIC,
  UPDATE_NOTICE_TOPIC,
  UPDATE_REPORT_AREA,
  desiredUpdateSchema,
  updateReportMsgId,
  type DesiredUpdate,
  type LockReply,
  type UpdateReportInput,
} from '#contracts/updater';

/**
 * Virtual nodes that speak the agent's update protocol over real NATS, the way `fleet-agent`
 * does: hello to the inventory, desired update on start and on every notice, durable reports on
 * JetStream with message ids, and reboot slots by request/reply. Used by the integration tests
 * (which also drive single steps by hand) and by `bench/rollout.ts`.
 */
/** Agents retry what the platform did not answer in time; so do virtual nodes. */
async function retrying<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}

export type Behaviour = 'ok' | 'download_fails' | 'health_fails' | 'silent';

export interface VirtualNodeOptions {
  id: string;
  group?: string;
  channel?: string;
  arch?: string;
  version: string;
  labels?: Record<string, string>;
  behaviour?: Behaviour;
}

export class VirtualNode {
  version: string;
  behaviour: Behaviour;
  readonly group: string;
  private busy = false;
  private again = false;
  private lastRevision = -1;
  private noticed?: DesiredUpdate;
  /** Set while waiting for a reboot slot; a slot-freed notice calls it. */
  slotFree?: () => void;

  constructor(
    private readonly bus: MessageBus,
    readonly options: VirtualNodeOptions,
    private readonly fleet?: VirtualFleet,
  ) {
    this.version = options.version;
    this.behaviour = options.behaviour ?? 'ok';
    this.group = options.group ?? 'default';
  }

  get id(): string {
    return this.options.id;
  }

  async hello(): Promise<unknown> {
    const hello: HelloInput = {
      v: 1,
      nodeId: this.id,
      hostname: `${this.id}.test`,
      labels: this.options.labels ?? {},
      group: this.group,
      channel: this.options.channel ?? 'stable',
      arch: this.options.arch ?? 'x86_64',
      os: { name: 'fleet-os', version: this.version },
      agentVersion: 'virtual-1',
    };
    return this.bus.request(this.bus.subjects.agent(this.id, 'hello'), hello, 10_000);
  }

  async desired(): Promise<DesiredUpdate> {
    const reply = await retrying(() => this.bus.request(this.bus.subjects.agent(this.id, AGENT_UPDATE_VERBS.desired), { v: 1 }, 10_000));
    return desiredUpdateSchema.parse(reply);
  }

  async report(report: Omit<UpdateReportInput, 'v' | 'at'> & { at?: string }): Promise<void> {
    const full = { v: 1 as const, at: new Date().toISOString(), ...report };
    await retrying(() =>
      this.bus.js.publish(this.bus.subjects.agentReport(this.id, UPDATE_REPORT_AREA), encodeJson(full), {
        msgID: updateReportMsgId(this.id, full),
      }),
    );
  }

  async lock(action: 'acquire' | 'renew' | 'release', group = this.group): Promise<LockReply> {
    const reply = (await retrying(() =>
      this.bus.request(this.bus.subjects.agent(this.id, AGENT_UPDATE_VERBS.lock), { v: 1, action, group }, 10_000),
    )) as LockReply;
    if (action === 'acquire' && reply.granted) this.fleet?.noteHolder(group, this.id, true);
    return reply;
  }

  /**
   * Reconciles towards the desired update, as the agent's update runner does: a notice carries
   * the desired update and is used as is; otherwise (start, missed notices) it is asked for.
   */
  async reconcile(notice?: DesiredUpdate): Promise<void> {
    if (notice) this.noticed = notice;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const given = this.noticed;
        this.noticed = undefined;
        const { update } = given ?? (await this.desired());
        if (!update || update.revision <= this.lastRevision || this.behaviour === 'silent') continue;
        this.lastRevision = update.revision;
        await this.apply(update);
      } while (this.again);
    } catch (err) {
      this.fleet?.noteError(err as Error);
    } finally {
      this.busy = false;
    }
  }

  private async apply(update: NonNullable<DesiredUpdate['update']>): Promise<void> {
    const base = { rolloutId: update.rolloutId, version: update.release.version };
    const target = update.release.version;
    if (!update.rollback) {
      if (this.version === target) return;
      await this.report({ ...base, state: 'downloading', fromVersion: this.version });
      if (this.behaviour === 'download_fails') {
        await this.report({ ...base, state: 'failed', code: 'download_failed', message: 'connection reset' });
        return;
      }
      await this.report({ ...base, state: 'staged' });
    }
    await this.report({ ...base, state: 'awaiting_reboot' });
    for (;;) {
      const reply = await this.lock('acquire', update.group);
      if (reply.granted) break;
      // Wait for a slot-freed notice, or poll after the hint (capped), whichever comes first.
      const waitMs = Math.min(this.fleet?.lockRetryMs ?? 200, (reply.retryAfterSeconds ?? 1) * 1000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.slotFree = done;
      });
      this.slotFree = undefined;
    }
    await this.report({ ...base, state: 'rebooting' });
    const previous = this.version;
    this.version = target; // instant reboot into the other slot
    await this.report({ ...base, state: 'verifying' });
    if (this.behaviour === 'health_fails' && !update.rollback) {
      this.version = previous;
      await this.report({ ...base, state: 'rolled_back', code: 'health_check_failed', message: 'http://127.0.0.1/healthz: 503' });
    } else {
      await this.report({ ...base, state: 'succeeded' });
    }
    this.fleet?.noteHolder(update.group, this.id, false);
    await this.lock('release', update.group);
  }
}

/** Many virtual nodes sharing one connection, reacting to notices automatically. */
export class VirtualFleet {
  readonly nodes = new Map<string, VirtualNode>();
  readonly maxHolders = new Map<string, number>();
  readonly errors: Error[] = [];
  lockRetryMs = 200;
  private readonly holding = new Map<string, Set<string>>();
  private sub?: Subscription;
  private lockSub?: Subscription;

  constructor(private readonly bus: MessageBus) {}

  add(options: VirtualNodeOptions): VirtualNode {
    const node = new VirtualNode(this.bus, options, this);
    this.nodes.set(node.id, node);
    return node;
  }

  /** Registers every node with the inventory, `concurrency` hellos at a time. */
  async helloAll(concurrency = 200): Promise<void> {
    const list = [...this.nodes.values()];
    for (let i = 0; i < list.length; i += concurrency) await Promise.all(list.slice(i, i + concurrency).map((n) => n.hello()));
  }

  /** From now on every notice makes its node reconcile; also reconciles each node once. */
  async startAuto(): Promise<void> {
    const index = this.bus.subjects.root.split('.').length + 1;
    this.sub = this.bus.nc.subscribe(this.bus.subjects.anyNode(UPDATE_NOTICE_TOPIC), {
      callback: (_err, msg) => {
        const node = this.nodes.get(msg.subject.split('.')[index]);
        const notice = desiredUpdateSchema.safeParse(msg.json());
        if (node) void node.reconcile(notice.success ? notice.data : undefined);
      },
    });
    this.lockSub = this.bus.nc.subscribe(this.bus.subjects.anyNode(LOCK_NOTICE_TOPIC), {
      callback: (_err, msg) => this.nodes.get(msg.subject.split('.')[index])?.slotFree?.(),
    });
    await this.bus.nc.flush();
    await Promise.all([...this.nodes.values()].map((n) => n.reconcile()));
  }

  stopAuto(): void {
    this.sub?.unsubscribe();
    this.lockSub?.unsubscribe();
  }

  noteHolder(group: string, id: string, holds: boolean): void {
    const set = this.holding.get(group) ?? new Set<string>();
    if (holds) set.add(id);
    else set.delete(id);
    this.holding.set(group, set);
    this.maxHolders.set(group, Math.max(this.maxHolders.get(group) ?? 0, set.size));
  }

  noteError(err: Error): void {
    if (this.errors.length < 100) this.errors.push(err);
  }
}
