import { Inject, Injectable } from '@nestjs/common';
import type { Hello, HelloReply } from '#contracts/inventory';
import { counter } from '#lib/telemetry';
import { EventOutbox } from '../outbox/event-outbox.service.js';
import { INVENTORY_SETTINGS, type InventorySettings } from '../settings.js';
import { NODE_COLUMNS, type NodeRow, changedFacts, toNodeView } from './node-view.js';

const hellos = counter('fleet_inventory_hellos_total', 'Agent hellos handled, by outcome', ['outcome']);

type UpsertRow = NodeRow & { prev: NodeRow | null };

/**
 * Registers or refreshes a node in ONE statement (one round trip). `prev` locks the existing row;
 * `updated` joins it, so the old facts it returns are the ones this statement replaced (READ
 * COMMITTED re-reads a row that changed while we waited for its lock); they decide which events
 * are due. `inserted` runs only when there was no row; if a concurrent hello inserted the same id
 * first, nothing comes back and the caller runs the statement again, which then updates.
 */
const UPSERT = `
WITH i AS (
  SELECT $1::text AS id, $2::text AS hostname, $3::jsonb AS labels, $4::text AS grp, $5::text AS channel,
         $6::text AS arch, $7::text AS os_name, $8::text AS os_version, $9::text AS kernel,
         $10::text AS booted_slot, $11::text AS agent_version, $12::jsonb AS runtimes, $13::text AS boot_id
),
prev AS (SELECT * FROM "inventory"."nodes" WHERE "id" = $1 FOR UPDATE),
updated AS (
  UPDATE "inventory"."nodes" n SET
    "hostname" = i.hostname,
    "agent_labels" = i.labels,
    "labels" = jsonb_strip_nulls(i.labels || n."label_overrides"),
    "agent_group" = i.grp,
    "group" = COALESCE(n."group_override", i.grp),
    "channel" = i.channel,
    "arch" = i.arch,
    "os_name" = i.os_name,
    "os_version" = i.os_version,
    "os_version_changed_at" = CASE WHEN i.os_version <> n."os_version" THEN now() ELSE n."os_version_changed_at" END,
    "online_since" = CASE WHEN n."status" = 'offline' THEN now() ELSE n."online_since" END,
    "kernel" = i.kernel,
    "booted_slot" = i.booted_slot,
    "agent_version" = i.agent_version,
    "runtimes" = i.runtimes,
    "boot_id" = COALESCE(i.boot_id, n."boot_id"),
    "status" = 'online',
    "last_seen_at" = now(),
    "updated_at" = now()
  FROM prev, i
  WHERE n."id" = prev."id"
  RETURNING ${NODE_COLUMNS}, to_jsonb(prev) AS prev
),
inserted AS (
  INSERT INTO "inventory"."nodes" AS n
    ("id", "hostname", "labels", "agent_labels", "group", "agent_group", "channel", "arch", "os_name",
     "os_version", "kernel", "booted_slot", "agent_version", "runtimes", "boot_id", "status")
  SELECT i.id, i.hostname, i.labels, i.labels, i.grp, i.grp, i.channel, i.arch, i.os_name,
         i.os_version, i.kernel, i.booted_slot, i.agent_version, i.runtimes, i.boot_id, 'online'
  FROM i WHERE NOT EXISTS (SELECT 1 FROM prev)
  ON CONFLICT ("id") DO NOTHING
  RETURNING ${NODE_COLUMNS}, NULL::jsonb AS prev
)
SELECT * FROM updated UNION ALL SELECT * FROM inserted`;

@Injectable()
export class RegistrationService {
  constructor(
    @Inject(EventOutbox) private readonly outbox: EventOutbox,
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
    // The upsert and the events it causes commit together (see EventOutbox).
    const outcome = await this.outbox.transaction(async (tx, events) => {
      let rows = await tx.query<UpsertRow>(UPSERT, params);
      if (rows.length === 0) rows = await tx.query<UpsertRow>(UPSERT, params); // lost an insert race
      if (rows.length === 0) throw new Error(`hello for ${hello.nodeId}: upsert returned no row`);
      const { prev, ...row } = rows[0];
      const view = toNodeView(row);
      if (prev === null) {
        events.registered(view);
        return 'registered';
      }
      const changed = changedFacts(prev, row);
      if (changed.length > 0) events.updated(view, changed);
      if (prev.status === 'offline') events.online(view.id, row.last_seen_at);
      return changed.length > 0 ? 'updated' : 'unchanged';
    });
    hellos.inc({ outcome });
    return {
      nodeId: hello.nodeId,
      registered: outcome === 'registered',
      heartbeatIntervalSeconds: this.settings.heartbeatIntervalSeconds,
    };
  }
}
