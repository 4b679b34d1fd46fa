import { Inject, Injectable } from '@nestjs/common';
import { FleetError, isLabelKey } from '#contracts/common';
import type { NodeView } from '#contracts/inventory';
import { EventOutbox } from '../outbox/event-outbox.service.js';
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
  constructor(@Inject(EventOutbox) private readonly outbox: EventOutbox) {}

  async update(change: NodeChange): Promise<NodeView> {
    const overrides: Record<string, string | null> = { ...(change.setLabels ?? {}) };
    for (const key of change.removeLabels ?? []) {
      if (!isLabelKey(key)) throw new FleetError('validation_failed', `bad label key "${key}"`);
      if (key in overrides) throw new FleetError('validation_failed', `label "${key}" is both set and removed`);
      overrides[key] = null;
    }
    return this.outbox.transaction(async (tx, events) => {
      const rows = await tx.query<NodeRow & { prev_labels: Record<string, string>; prev_group: string }>(UPDATE, [
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
      if (changed.length > 0) events.updated(view, changed);
      return view;
    });
  }

  /** Forgets a node. A machine whose agent still runs is asked to hello again and comes back. */
  async decommission(id: string): Promise<{ id: string; decommissioned: true }> {
    return this.outbox.transaction(async (tx, events) => {
      const rows = await tx.query<{ at: Date }>(`DELETE FROM "inventory"."nodes" WHERE "id" = $1 RETURNING now() AS "at"`, [id]);
      if (rows.length === 0) throw new FleetError('not_found', `node ${id} is not in the inventory`);
      events.decommissioned(id, rows[0].at);
      return { id, decommissioned: true as const };
    });
  }
}
