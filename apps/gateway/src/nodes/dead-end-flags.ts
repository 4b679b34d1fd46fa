import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { nodeViewSchema, type NodeView } from '#contracts/inventory';
import { UPDATER, flagNodesReplySchema, updaterVerbs } from '#contracts/updater';
import { ServiceClient } from '../core/service-client.js';

/**
 * What the gateway shows of a node: the inventory's view plus `deadEnd`, set when the node runs
 * a release the updater marks as a dead end (it can never update from there). `deadEnd` is
 * absent when the updater could not be asked.
 */
export const gatewayNodeSchema = nodeViewSchema.extend({
  deadEnd: z.object({ reason: z.string() }).nullable().optional(),
});
export type GatewayNode = z.output<typeof gatewayNodeSchema>;

@Injectable()
export class DeadEndFlags {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  /** One updater request per page of nodes; a node list never fails because the updater is down. */
  async flag(nodes: NodeView[]): Promise<GatewayNode[]> {
    if (nodes.length === 0) return nodes;
    try {
      const reply = await this.services.call(
        UPDATER,
        updaterVerbs.flagNodes,
        { nodes: nodes.map((n) => ({ id: n.id, channel: n.channel, arch: n.arch, version: n.os.version })) },
        { reply: flagNodesReplySchema, timeoutMs: 2000 },
      );
      const byId = new Map(reply.items.map((item) => [item.id, item.deadEnd]));
      return nodes.map((n) => ({ ...n, deadEnd: byId.get(n.id) ?? null }));
    } catch {
      return nodes;
    }
  }
}
