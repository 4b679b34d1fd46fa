import { matchesSelector, parseSelector, type Selector } from '#contracts/common';
import { bundleHash, scopeKey, type ConfigFile, type ConfigItem } from '#contracts/config';

/** What the merge needs to know about a node (from the inventory). */
export interface NodeFacts {
  nodeId: string;
  group: string;
  labels: Record<string, string>;
}

export interface EffectiveConfig {
  files: ConfigFile[];
  hash: string;
}

interface SelectorScope {
  text: string;
  parsed: Selector;
  files: Map<string, ConfigFile>;
}

const RANK = { global: 0, group: 1, selector: 2, node: 3 } as const;

/**
 * Orders selector scopes by precedence, lowest first, so that applying them in order lets the
 * winner overwrite. Ties among selectors that both match a node are broken deterministically:
 * the selector with MORE requirements is more specific and wins; with equal counts, the one whose
 * text sorts FIRST (plain code-unit order) wins. The order never depends on insertion order.
 */
export function compareSelectorPrecedence(a: { text: string; parsed: Selector }, b: { text: string; parsed: Selector }): number {
  if (a.parsed.length !== b.parsed.length) return a.parsed.length - b.parsed.length;
  return a.text < b.text ? 1 : a.text > b.text ? -1 : 0;
}

/**
 * One revision's config set compiled for fast per-node merges: the merge of 10,000 nodes reuses
 * one result per distinct (group, matching selectors) combination.
 */
export class CompiledConfigSet {
  private readonly global = new Map<string, ConfigFile>();
  private readonly groups = new Map<string, Map<string, ConfigFile>>();
  private readonly nodes = new Map<string, Map<string, ConfigFile>>();
  private readonly selectors: SelectorScope[] = [];
  private readonly memo = new Map<string, EffectiveConfig>();

  constructor(items: readonly ConfigItem[]) {
    const bySelector = new Map<string, SelectorScope>();
    for (const { scope, file } of items) {
      let target: Map<string, ConfigFile>;
      switch (scope.kind) {
        case 'global':
          target = this.global;
          break;
        case 'group':
          target = getOrCreate(this.groups, scope.group);
          break;
        case 'node':
          target = getOrCreate(this.nodes, scope.nodeId);
          break;
        case 'selector': {
          let s = bySelector.get(scope.selector);
          if (!s) {
            s = { text: scope.selector, parsed: parseSelector(scope.selector), files: new Map() };
            bySelector.set(scope.selector, s);
          }
          target = s.files;
          break;
        }
      }
      target.set(file.path, file);
    }
    this.selectors = [...bySelector.values()].sort(compareSelectorPrecedence);
  }

  effective(node: NodeFacts): EffectiveConfig {
    const matching: number[] = [];
    this.selectors.forEach((s, i) => {
      if (matchesSelector(s.parsed, node.labels)) matching.push(i);
    });
    const own = this.nodes.get(node.nodeId);
    const key = own ? undefined : `${node.group}\u0000${matching.join(',')}`;
    if (key !== undefined) {
      const hit = this.memo.get(key);
      if (hit) return hit;
    }
    const merged = new Map(this.global);
    for (const [p, f] of this.groups.get(node.group) ?? []) merged.set(p, f);
    for (const i of matching) for (const [p, f] of this.selectors[i].files) merged.set(p, f);
    for (const [p, f] of own ?? []) merged.set(p, f);
    const files = [...merged.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    const result = { files, hash: bundleHash(files) };
    if (key !== undefined) this.memo.set(key, result);
    return result;
  }
}

/** One-off merge (tests, single-node lookups). */
export function effectiveConfig(items: readonly ConfigItem[], node: NodeFacts): EffectiveConfig {
  return new CompiledConfigSet(items).effective(node);
}

export function scopeRank(item: ConfigItem): number {
  return RANK[item.scope.kind];
}

export function sortItems(items: ConfigItem[]): ConfigItem[] {
  return items.sort((a, b) => {
    const ka = `${scopeKey(a.scope)}\u0000${a.file.path}`;
    const kb = `${scopeKey(b.scope)}\u0000${b.file.path}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

function getOrCreate<K, V>(map: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let m = map.get(key);
  if (!m) {
    m = new Map();
    map.set(key, m);
  }
  return m;
}
