import {
  INVENTORY,
  inventoryVerbs,
  matchNodesReplySchema,
  type MatchNodes,
  type MatchNodesReply,
} from '#contracts/inventory';
import { parseOrThrow } from '#contracts/common';
import type { MessageBus } from './bus.js';

export type MatchedNode = MatchNodesReply['nodes'][number];

/**
 * Every node a target names, through the inventory's `match` verb one page at a time, so a fleet
 * of any size fits (an unpaged reply stops fitting in one NATS message near 10,000 nodes).
 */
export async function matchAllNodes(
  bus: MessageBus,
  query: Omit<MatchNodes, 'limit' | 'cursor'>,
  options: { pageSize?: number; timeoutMs?: number } = {},
): Promise<MatchedNode[]> {
  const nodes: MatchedNode[] = [];
  let cursor: string | null | undefined;
  do {
    const reply = await bus.request(
      bus.subjects.svc(INVENTORY, inventoryVerbs.match),
      { ...query, limit: options.pageSize ?? 2000, ...(cursor ? { cursor } : {}) },
      options.timeoutMs ?? 10_000,
    );
    const page = parseOrThrow(matchNodesReplySchema, reply, 'inventory match reply');
    nodes.push(...page.nodes);
    cursor = page.nextCursor;
  } while (cursor);
  return nodes;
}
