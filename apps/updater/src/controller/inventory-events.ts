import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus } from '#lib/messaging';
import { eventEnvelopeSchema } from '#contracts/common';
import { INVENTORY, INVENTORY_EVENTS } from '#contracts/inventory';
import { DesiredService } from '../agents/desired.service.js';
import { UPDATER_BUS, UPDATER_DB } from '../common/tokens.js';

const N = '"updater"."rollout_nodes"';

/**
 * Inventory events keep rollouts honest between target refreshes: a node that goes offline
 * before starting its update stops holding up its wave (and is not timed out); one that comes
 * back gets a fresh timeout; a decommissioned node loses its desired update and no longer
 * counts as waiting. Events are a shortcut only: the periodic `match` refresh converges anyway.
 */
@Injectable()
export class InventoryEvents implements OnApplicationBootstrap {
  constructor(
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly desired: DesiredService,
  ) {}

  onApplicationBootstrap(): void {
    const on = (event: string, handler: (nodeId: string) => Promise<void>) =>
      this.bus.consume(this.bus.subjects.event(INVENTORY, event), {
        name: `updater.inventory.${event}`,
        schema: eventEnvelopeSchema,
        trace: false,
        handler: async (envelope) => {
          const nodeId = (envelope.data as { nodeId?: unknown; node?: { id?: unknown } }).nodeId;
          if (typeof nodeId === 'string') await handler(nodeId);
        },
      });
    on(INVENTORY_EVENTS.offline, (id) => this.setOnline(id, false));
    on(INVENTORY_EVENTS.online, (id) => this.setOnline(id, true));
    on(INVENTORY_EVENTS.decommissioned, (id) => this.decommissioned(id));
  }

  private async setOnline(nodeId: string, online: boolean): Promise<void> {
    await this.db.query(
      `UPDATE ${N} n SET online = $2,
              state_at = CASE WHEN $2 AND NOT n.online AND n.state = 'pending' THEN now() ELSE n.state_at END
         FROM "updater"."rollouts" r
        WHERE n.node_id = $1 AND r.id = n.rollout_id AND r.ended_at IS NULL AND n.online <> $2`,
      [nodeId, online],
    );
  }

  private async decommissioned(nodeId: string): Promise<void> {
    await this.setOnline(nodeId, false);
    const rows: Array<{ rollout_id: string }> = await this.db.query(`SELECT rollout_id FROM "updater"."desired_updates" WHERE node_id = $1`, [nodeId]);
    for (const r of rows) await this.desired.clear(this.db, r.rollout_id, [nodeId]);
  }
}
