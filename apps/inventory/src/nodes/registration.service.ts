import { Inject, Injectable } from '@nestjs/common';
import { Sql } from '../database/sql.js';
import type { Hello, HelloReply } from '#contracts/inventory';
import { counter } from '#lib/telemetry';
import { INVENTORY_SETTINGS, type InventorySettings } from '../settings.js';
import { InventoryEvents } from './inventory-events.js';
import { NODE_COLUMNS, type NodeRow, changedFacts, toNodeView } from './node-view.js';

const hellos = counter('fleet_inventory_hellos_total', 'Agent hellos handled, by outcome', ['outcome']);

type UpsertRow = NodeRow & { inserted: boolean };

/**
 * Registers or refreshes a node in one transaction: lock the existing row (so the old facts read
 * are exactly the ones the upsert replaces; they decide which events are due), then upsert.
 * `inserted` tells a first registration from a concurrent hello that lost the race to insert.
 */
const LOCK_PREVIOUS = `SELECT ${NODE_COLUMNS} FROM "inventory"."nodes" n WHERE n."id" = $1 FOR UPDATE`;
const UPSERT = `
INSERT INTO "inventory"."nodes" AS n
  ("id", "hostname", "labels", "agent_labels", "group", "agent_group", "channel", "arch", "os_name",
   "os_version", "kernel", "booted_slot", "agent_version", "runtimes", "boot_id", "status")
VALUES ($1, $2, $3::jsonb, $3::jsonb, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, 'online')
ON CONFLICT ("id") DO UPDATE SET
  "hostname" = EXCLUDED."hostname",
  "agent_labels" = EXCLUDED."agent_labels",
  "labels" = jsonb_strip_nulls(EXCLUDED."agent_labels" || n."label_overrides"),
  "agent_group" = EXCLUDED."agent_group",
  "group" = COALESCE(n."group_override", EXCLUDED."agent_group"),
  "channel" = EXCLUDED."channel",
  "arch" = EXCLUDED."arch",
  "os_name" = EXCLUDED."os_name",
  "os_version" = EXCLUDED."os_version",
  "kernel" = EXCLUDED."kernel",
  "booted_slot" = EXCLUDED."booted_slot",
  "agent_version" = EXCLUDED."agent_version",
  "runtimes" = EXCLUDED."runtimes",
  "boot_id" = COALESCE(EXCLUDED."boot_id", n."boot_id"),
  "status" = 'online',
  "last_seen_at" = now(),
  "updated_at" = now()
RETURNING ${NODE_COLUMNS}, (n.xmax::text = '0') AS inserted`;

@Injectable()
export class RegistrationService {
  constructor(
    @Inject(Sql) private readonly db: Sql,
    @Inject(InventoryEvents) private readonly events: InventoryEvents,
    @Inject(INVENTORY_SETTINGS) private readonly settings: InventorySettings,
  ) {}

  async hello(hello: Hello): Promise<HelloReply> {
    const params = [
      hello.nodeId,
      hello.hostname,
      JSON.stringify(hello.labels),
      hello.group,
      hello.channel,
      hello.arch,
      hello.os.name,
      hello.os.version,
      hello.kernel,
      hello.bootedSlot,
      hello.agentVersion,
      JSON.stringify(hello.runtimes),
      hello.bootId ?? null,
    ];
    const [prev, upserted] = await this.db.transaction(async (query) => {
      const before = await query<NodeRow>(LOCK_PREVIOUS, [hello.nodeId]);
      const after = await query<UpsertRow>(UPSERT, params);
      return [before[0] ?? null, after[0]] as const;
    });
    const { inserted, ...row } = upserted;
    const view = toNodeView(row);
    const registered = prev === null && inserted;
    if (registered) {
      hellos.inc({ outcome: 'registered' });
      await this.events.registered(view);
    } else if (prev === null) {
      // A concurrent hello for the same id inserted the row first; that one reports it.
      hellos.inc({ outcome: 'unchanged' });
    } else {
      const changed = changedFacts(prev, row);
      hellos.inc({ outcome: changed.length > 0 ? 'updated' : 'unchanged' });
      if (changed.length > 0) await this.events.updated(view, changed);
      if (prev.status === 'offline') await this.events.online(view.id, row.last_seen_at);
    }
    return {
      nodeId: hello.nodeId,
      registered,
      heartbeatIntervalSeconds: this.settings.heartbeatIntervalSeconds,
    };
  }
}
