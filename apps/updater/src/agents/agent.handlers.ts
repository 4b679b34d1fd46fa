import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ensureReportStream, type MessageBus } from '#lib/messaging';
import { FleetError, nodeIdSchema } from '#contracts/common';
import {
  AGENT_UPDATE_VERBS,
  desiredUpdateRequestSchema,
  lockRequestSchema,
  type LockReply,
} from '#contracts/updater';
import { UPDATER_BUS } from '../common/tokens.js';
import { SemaphoreService } from '../locks/semaphore.service.js';
import { DesiredService } from './desired.service.js';
import { consumeReports } from './report-consumer.js';
import { ReportsService } from './reports.service.js';
import { SlotRequests } from './slot-requests.js';

function agentId(nodeId: string | undefined): string {
  const parsed = nodeIdSchema.safeParse(nodeId);
  if (!parsed.success) throw new FleetError('bad_request', `invalid node id in subject: ${String(nodeId)}`);
  return parsed.data;
}

/**
 * Agent-facing side: desired update (request/reply), reboot slots (request/reply) and durable
 * reports (JetStream). The node id always comes from the subject, which a node's NATS
 * credentials confine to its own id, so a node can only ever act as itself.
 */
@Injectable()
export class AgentHandlers implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: { stop(): Promise<void> };

  constructor(
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    private readonly desired: DesiredService,
    private readonly semaphore: SemaphoreService,
    private readonly reports: ReportsService,
    private readonly slotRequests: SlotRequests,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.bus.serve(this.bus.subjects.anyAgent(AGENT_UPDATE_VERBS.desired), {
      name: 'updater.agent.desired',
      schema: desiredUpdateRequestSchema,
      maxBytes: 4096,
      trace: false,
      handler: (_input, ctx) => this.desired.get(agentId(ctx.nodeId)),
    });
    this.bus.serve(this.bus.subjects.anyAgent(AGENT_UPDATE_VERBS.lock), {
      name: 'updater.agent.lock',
      schema: lockRequestSchema,
      maxBytes: 4096,
      handler: (input, ctx) => this.lock(agentId(ctx.nodeId), input.action, input.group, input.leaseSeconds),
    });
    await ensureReportStream(this.bus);
    this.consumer = await consumeReports(this.bus, {
      durable: `${this.bus.subjects.queue('updater')}-update-reports`,
      maxBatch: 500,
      flushMs: 20,
      handler: (items) => this.reports.applyBatch(items),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async lock(nodeId: string, action: 'acquire' | 'renew' | 'release', group: string, leaseSeconds?: number): Promise<LockReply> {
    const assigned = await this.desired.groupOf(nodeId);
    if (assigned !== null && assigned !== group) {
      throw new FleetError('forbidden', `node ${nodeId} belongs to reboot group ${assigned}, not ${group}`);
    }
    // Asking is a waiting node's sign of life (its awaiting_reboot deadline counts silence).
    if (action !== 'release') this.slotRequests.note(nodeId);
    if (action === 'acquire') return this.semaphore.acquire(nodeId, group, leaseSeconds);
    if (action === 'renew') return this.semaphore.renew(nodeId, group, leaseSeconds);
    const r = await this.semaphore.release(nodeId, group);
    return {
      granted: false,
      group,
      holder: nodeId,
      reason: null,
      message: r.released ? 'released' : 'no slot was held',
      retryAfterSeconds: null,
      released: r.released,
      capacity: r.capacity,
      holders: r.holders,
    };
  }
}
