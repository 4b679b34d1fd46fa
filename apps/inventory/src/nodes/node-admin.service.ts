import { Inject, Injectable } from '@nestjs/common';
import { Sql } from '../database/sql.js';
import { FleetError, isLabelKey } from '#contracts/common';
import type { NodeView } from '#contracts/inventory';
import { InventoryEvents } from './inventory-events.js';
import { NODE_COLUMNS, type NodeRow, sameJson, toNodeView } from './node-view.js';

export interface NodeChange {
  id: string;
  setLabels?: Record<string, string>;
  removeLabels?: string[];
  group?: string;
}

/**
 * Operator changes are stored as overrides on top of what the agent reports, so they survive the
 * agent's next hello: a set label wins over the agent's value, a removed label stays removed
 * (null override), and a group set here wins over the agent's configured group.
 */
const UPDATE = `
WITH prev AS (SELECT "id", "labels", "group" FROM "inventory"."nodes" WHERE "id" = $1 FOR UPDATE)
UPDATE "inventory"."nodes" n SET
  "label_overrides" = n."label_overrides" || $2::jsonb,
  "labels" = jsonb_strip_nulls(n."agent_labels" || n."label_overrides" || $2::jsonb),
  "group_override" = COALESCE($3, n."group_override"),
  "group" = COALESCE($3, n."group_override", n."agent_group"),
  "updated_at" = now()
FROM prev WHERE n."id" = prev."id"
RETURNING ${NODE_COLUMNS}, prev."labels" AS prev_labels, prev."group" AS prev_group`;

@Injectable()
export class NodeAdminService {
  constructor(
    @Inject(Sql) private readonly db: Sql,
    @Inject(InventoryEvents) private readonly events: InventoryEvents,
  ) {}

  async update(change: NodeChange): Promise<NodeView> {
    const overrides: Record<string, string | null> = { ...(change.setLabels ?? {}) };
    for (const key of change.removeLabels ?? []) {
      if (!isLabelKey(key)) throw new FleetError('validation_failed', `bad label key "${key}"`);
      if (key in overrides) throw new FleetError('validation_failed', `label "${key}" is both set and removed`);
      overrides[key] = null;
    }
    const rows = await this.db.query<NodeRow & { prev_labels: Record<string, string>; prev_group: string }>(UPDATE, [
      change.id,
      JSON.stringify(overrides),
      change.group ?? null,
    ]);
    if (rows.length === 0) throw new FleetError('not_found', `node ${change.id} is not in the inventory`);
    const { prev_labels, prev_group, ...row } = rows[0];
    const changed: string[] = [];
    if (!sameJson(prev_labels, row.labels)) changed.push('labels');
    if (prev_group !== row.group) changed.push('group');
    const view = toNodeView(row);
    if (changed.length > 0) void this.events.updated(view, changed);
    return view;
  }

  /** Forgets a node. A machine whose agent still runs is asked to hello again and comes back. */
  async decommission(id: string): Promise<{ id: string; decommissioned: true }> {
    const rows = await this.db.query<{ id: string }>(
      `DELETE FROM "inventory"."nodes" WHERE "id" = $1 RETURNING "id"`,
      [id],
    );
    if (rows.length === 0) throw new FleetError('not_found', `node ${id} is not in the inventory`);
    void this.events.decommissioned(id, new Date());
    return { id, decommissioned: true };
  }
}
