import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { eventEnvelopeSchema } from '#contracts/common';
import { INVENTORY, nodeViewSchema } from '#contracts/inventory';
import { MessageBus, consumeBatches, matchAllNodes } from '#lib/messaging';
import { ElectedLoop } from '#lib/persistence';
import { JsonLogger } from '#lib/telemetry';
import { Db } from '../database/data-source.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';
import { DesiredStateService } from './desired-state.service.js';

const nodeEvent = z.object({ node: nodeViewSchema.pick({ id: true, group: true, labels: true }).passthrough() });
const idEvent = z.object({ nodeId: z.string() });

/**
 * Keeps each node's facts (group, labels) current so the desired state follows them without a
 * re-publish: inventory events `node.registered`/`node.updated` (durable, batched) and, in the
 * elected replica, a periodic full resync through the inventory's `match` verb that also catches
 * anything missed while the service was down.
 */
@Injectable()
export class InventorySync {
  private readonly logger = new JsonLogger('config', 'inventory-sync');
  private consumer?: { stop(): Promise<void> };
  private resyncLoop?: ElectedLoop;

  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(DesiredStateService) private readonly desired: DesiredStateService,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
    @Inject(Db) private readonly db: Db,
  ) {}

  async start(): Promise<void> {
    this.consumer = await consumeBatches(this.bus, {
      durable: 'config-inventory-events',
      stream: this.bus.subjects.eventsStream,
      filterSubject: `${this.bus.subjects.root}.events.${INVENTORY}.>`,
      schema: eventEnvelopeSchema,
      name: 'config.inventory-event',
      maxBatch: 500,
      flushMs: 20,
      handler: async (items) => {
        const facts = new Map<string, { nodeId: string; group: string; labels: Record<string, string> }>();
        const removed: string[] = [];
        for (const { input } of items) {
          if (input.type === `${INVENTORY}.node.registered` || input.type === `${INVENTORY}.node.updated`) {
            const parsed = nodeEvent.safeParse(input.data);
            if (parsed.success) {
              const n = parsed.data.node;
              facts.set(n.id, { nodeId: n.id, group: n.group, labels: n.labels });
            }
          } else if (input.type === `${INVENTORY}.node.decommissioned`) {
            const parsed = idEvent.safeParse(input.data);
            if (parsed.success) removed.push(parsed.data.nodeId);
          }
        }
        await this.desired.upsertFacts([...facts.values()]);
        await this.desired.removeNodes(removed);
      },
    });
    // One replica re-reads every node's facts periodically; passes never overlap, however slow.
    this.resyncLoop = new ElectedLoop({
      url: this.settings.databaseUrl,
      name: 'config:resync',
      retryMs: this.settings.leaderRetryMs,
      periodMs: this.settings.resyncIntervalMs,
      pass: () => this.resync(),
      onError: (err) => this.logger.warn('resync failed', { error: err.message }),
    });
    this.resyncLoop.start();
  }

  async stop(): Promise<void> {
    await this.resyncLoop?.stop();
    await this.consumer?.stop();
  }

  /** Re-reads every node's facts from the inventory. */
  async resync(): Promise<number> {
    try {
      const [{ started }] = await this.db.query<{ started: Date }>('SELECT now() AS started');
      const nodes = await matchAllNodes(this.bus, {}, { timeoutMs: 30_000 });
      await this.desired.upsertFacts(nodes.map((n) => ({ nodeId: n.id, group: n.group, labels: n.labels })));
      // An empty answer is more likely a misconfigured inventory than a fleet gone at once.
      if (nodes.length > 0) {
        const pruned = await this.desired.pruneNodes(nodes.map((n) => n.id), started);
        if (pruned) this.logger.info('forgot nodes the inventory no longer has', { nodes: pruned });
      }
      return nodes.length;
    } catch (err) {
      this.logger.warn('resync from inventory failed; will retry', { error: (err as Error).message });
      return -1;
    }
  }
}
