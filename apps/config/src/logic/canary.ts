import { createHash } from 'node:crypto';
import { matchesSelector, parseSelector } from '#contracts/common';
import type { Canary } from '#contracts/config';
import type { NodeFacts } from './merge.js';

/**
 * A node's stable bucket in [0, 100): the first 32 bits of sha256(node id), scaled. The same node
 * is always in the same bucket, so "5%" names the same machines on every publish, and growing the
 * percentage only adds machines.
 */
export function canaryBucket(nodeId: string): number {
  const h = createHash('sha256').update(nodeId).digest();
  return (h.readUInt32BE(0) / 0x1_0000_0000) * 100;
}

export function inCanary(canary: Canary, node: NodeFacts): boolean {
  if (canary.percent !== undefined) return canaryBucket(node.nodeId) < canary.percent;
  return matchesSelector(parseSelector(canary.selector), node.labels);
}

/** Parses the CLI's `--canary` value: `5%` or a label selector. */
export function parseCanaryText(text: string): Canary {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (m) return { percent: Number(m[1]) };
  parseSelector(text);
  return { selector: text.trim() };
}
