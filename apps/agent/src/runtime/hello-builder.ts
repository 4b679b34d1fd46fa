import type { HelloInput } from '#contracts/inventory';
import type { AgentFacts, AgentFeature, FeatureFacts, FeatureFactsInput } from '../feature.js';
import type { HostFacts } from '../facts/host-facts.js';

export interface NodeIdentity {
  group: string;
  channel: string;
  labels: Record<string, string>;
}

/** Asks every feature with a `facts()` hook; later features win; a failing hook is skipped. */
export async function collectFeatureFacts(
  features: ReadonlyArray<{ feature: AgentFeature; config: unknown }>,
  input: Omit<FeatureFactsInput, 'config'>,
  onError: (feature: string, err: Error) => void,
): Promise<FeatureFacts> {
  const merged: FeatureFacts = {};
  for (const { feature, config } of features) {
    if (!feature.facts) continue;
    try {
      const facts = await feature.facts({ ...input, config });
      for (const key of ['bootedSlot', 'osName', 'osVersion'] as const) {
        if (facts[key] !== undefined) (merged as Record<string, unknown>)[key] = facts[key];
      }
    } catch (err) {
      onError(feature.name, err as Error);
    }
  }
  return merged;
}

/** What the agent knows about itself: config identity, host facts, then feature facts on top. */
export function composeFacts(nodeId: string, host: HostFacts, identity: NodeIdentity, extra: FeatureFacts): AgentFacts {
  return {
    nodeId,
    hostname: host.hostname,
    group: identity.group,
    channel: identity.channel,
    arch: host.arch,
    labels: identity.labels,
    osName: extra.osName ?? host.os.name,
    osVersion: extra.osVersion ?? host.os.version,
    bootedSlot: extra.bootedSlot ?? null,
  };
}

export function helloMessage(facts: AgentFacts, host: HostFacts, agentVersion: string): HelloInput {
  return {
    v: 1,
    nodeId: facts.nodeId,
    hostname: facts.hostname,
    labels: facts.labels,
    group: facts.group,
    channel: facts.channel,
    arch: facts.arch,
    os: { name: facts.osName, version: facts.osVersion },
    kernel: host.kernel,
    bootedSlot: facts.bootedSlot,
    agentVersion,
    runtimes: host.runtimes,
    bootId: host.bootId,
  };
}
