import { Inject, Injectable } from '@nestjs/common';
import { Sql } from '../database/sql.js';
import { FleetError } from '#contracts/common';
import type { FleetSummary, NodePage, NodeView } from '#contracts/inventory';
import { NodeFilter, decodeCursor, encodeCursor, whereClause } from './node-filter.js';
import { NODE_COLUMNS, type NodeRow, toNodeView } from './node-view.js';
import { SqlParams } from './selector-sql.js';

export interface MatchedNode {
  id: string;
  group: string;
  labels: Record<string, string>;
  status: 'online' | 'offline';
}

/** Read side of the inventory: list, get, summary and match, straight SQL over `inventory.nodes`. */
@Injectable()
export class NodeQueryService {
  constructor(@Inject(Sql) private readonly db: Sql) {}

  async list(filter: NodeFilter & { limit: number; cursor?: string }): Promise<NodePage> {
    const countParams = new SqlParams();
    const countSql = `SELECT count(*)::int AS total FROM "inventory"."nodes" n ${whereClause(filter, countParams)}`;
    const params = new SqlParams();
    const after = filter.cursor === undefined ? [] : [`n."id" > ${params.add(decodeCursor(filter.cursor))}`];
    const where = whereClause(filter, params, after);
    const pageSql = `SELECT ${NODE_COLUMNS} FROM "inventory"."nodes" n ${where} ORDER BY n."id" LIMIT ${params.add(filter.limit + 1)}`;
    const [rows, counted] = await Promise.all([
      this.db.query<NodeRow>(pageSql, params.values),
      this.db.query<{ total: number }>(countSql, countParams.values),
    ]);
    const more = rows.length > filter.limit;
    const items = (more ? rows.slice(0, filter.limit) : rows).map(toNodeView);
    return {
      items,
      total: counted[0]?.total ?? 0,
      nextCursor: more ? encodeCursor(items[items.length - 1].id) : null,
    };
  }

  async get(id: string): Promise<NodeView> {
    const rows = await this.db.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM "inventory"."nodes" n WHERE n."id" = $1`, [id]);
    if (rows.length === 0) throw new FleetError('not_found', `node ${id} is not in the inventory`);
    return toNodeView(rows[0]);
  }

  /** Counts by status, health, OS version, channel and group in one grouping-sets query. */
  async summary(): Promise<FleetSummary> {
    const rows = await this.db.query<{ dim: string; key: string | null; count: number }>(`SELECT CASE
             WHEN GROUPING(n."status") = 0 THEN 'status'
             WHEN GROUPING(n."health") = 0 THEN 'health'
             WHEN GROUPING(n."os_version") = 0 THEN 'os'
             WHEN GROUPING(n."channel") = 0 THEN 'channel'
             WHEN GROUPING(n."group") = 0 THEN 'group'
             ELSE 'total' END AS dim,
           COALESCE(n."status", n."health", n."os_version", n."channel", n."group") AS key,
           count(*)::int AS count
         FROM "inventory"."nodes" n
         GROUP BY GROUPING SETS ((n."status"), (n."health"), (n."os_version"), (n."channel"), (n."group"), ())`);
    const summary: FleetSummary = { total: 0, byStatus: { online: 0, offline: 0 }, byHealth: {}, byOsVersion: {}, byChannel: {}, byGroup: {} };
    const target: Record<string, Record<string, number>> = {
      status: summary.byStatus,
      health: summary.byHealth,
      os: summary.byOsVersion,
      channel: summary.byChannel,
      group: summary.byGroup,
    };
    for (const row of rows) {
      if (row.dim === 'total') summary.total = row.count;
      else target[row.dim][row.key ?? ''] = row.count;
    }
    return summary;
  }

  /** The nodes a target selects, ordered by id; `limit` + `cursor` page through large fleets. */
  async match(
    filter: NodeFilter & { limit?: number; cursor?: string },
  ): Promise<{ nodes: MatchedNode[]; nextCursor: string | null }> {
    const params = new SqlParams();
    const after = filter.cursor === undefined ? [] : [`n."id" > ${params.add(decodeCursor(filter.cursor))}`];
    const where = whereClause(filter, params, after);
    const limit = filter.limit === undefined ? '' : `LIMIT ${params.add(filter.limit + 1)}`;
    const rows = await this.db.query<MatchedNode>(
      `SELECT n."id", n."group", n."labels", n."status" FROM "inventory"."nodes" n ${where} ORDER BY n."id" ${limit}`,
      params.values,
    );
    const more = filter.limit !== undefined && rows.length > filter.limit;
    const nodes = more ? rows.slice(0, filter.limit) : rows;
    return { nodes, nextCursor: more ? encodeCursor(nodes[nodes.length - 1].id) : null };
  }
}
