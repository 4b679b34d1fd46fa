import { matchAllNodes, type MessageBus } from '#lib/messaging';
import { parseSelector } from '#contracts/common';

const TTL_MS = 2000;

/**
 * Node labels belong to the inventory: a node selector in a query is resolved through its
 * `match` verb, and the answer kept for two seconds so a burst of queries asks once.
 */
export class NodeResolver {
  private readonly cache = new Map<string, { at: number; nodes: Promise<Set<string>> }>();

  constructor(private readonly bus: MessageBus) {}

  async resolve(selector: string): Promise<Set<string>> {
    parseSelector(selector); // a bad selector is the caller's validation error, not the inventory's
    const hit = this.cache.get(selector);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.nodes;
    const nodes = matchAllNodes(this.bus, { selector }, { timeoutMs: 5000 }).then((matched) => new Set(matched.map((n) => n.id)));
    this.cache.set(selector, { at: Date.now(), nodes });
    nodes.catch(() => this.cache.delete(selector));
    if (this.cache.size > 1000) this.cache.delete(this.cache.keys().next().value!);
    return nodes;
  }
}
