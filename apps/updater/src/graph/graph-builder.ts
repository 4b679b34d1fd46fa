import { GRAPH_METADATA, compareVersions, type UpdateGraph } from '#contracts/updater';

/** What the graph builder needs of a release. */
export interface GraphRelease {
  id: string;
  version: string;
  payload: { url: string; sha256: string; size: number; signature: string };
  barrier: { reason: string } | null;
  deadEnd: { reason: string } | null;
  rollout: { startAt: string; startValue: number; durationMinutes: number } | null;
  withdrawn: boolean;
}

/**
 * Share (0..1) of clients a Cincinnati rollout is offered to at `atMs`: nobody before the start,
 * then a linear ramp from `startValue` to 1 over `durationMinutes`.
 */
export function rolloutShare(rollout: GraphRelease['rollout'], atMs: number): number {
  if (!rollout) return 0;
  const start = Date.parse(rollout.startAt);
  if (atMs < start) return 0;
  if (rollout.durationMinutes <= 0) return 1;
  const progress = (atMs - start) / (rollout.durationMinutes * 60_000);
  return Math.min(1, rollout.startValue + (1 - rollout.startValue) * progress);
}

/**
 * Builds the update graph of one (channel, arch) by the Cincinnati rules:
 * - withdrawn releases are left out;
 * - releases are ordered by version; the edges into a target come from every release since the
 *   last barrier before it (that barrier included), so nobody skips a barrier, and a barrier is
 *   reached from everything since the barrier before it;
 * - a target is a release with rollout metadata, or a barrier;
 * - dead ends have no outgoing edges;
 * - edges into a target whose ramp has not started are dropped, and with a `wariness` (0..1)
 *   those whose ramp share is still below it.
 */
export function buildGraph(releases: GraphRelease[], options: { atMs: number; wariness?: number }): UpdateGraph {
  const live = releases.filter((r) => !r.withdrawn).sort((a, b) => compareVersions(a.version, b.version));
  const nodes = live.map((r, index) => ({ version: r.version, payload: r.payload.sha256, metadata: metadataOf(r, index) }));
  const edges: Array<[number, number]> = [];
  let lastBarrier = 0;
  for (let to = 0; to < live.length; to++) {
    const target = live[to];
    const isTarget = target.rollout !== null || target.barrier !== null;
    const share = target.rollout === null ? 1 : rolloutShare(target.rollout, options.atMs);
    const offered = share > 0 && (options.wariness === undefined || share >= options.wariness);
    if (isTarget && offered) {
      for (let from = lastBarrier; from < to; from++) {
        if (live[from].deadEnd === null) edges.push([from, to]);
      }
    }
    if (target.barrier !== null) lastBarrier = to;
  }
  return { nodes, edges };
}

function metadataOf(r: GraphRelease, index: number): Record<string, string> {
  const m: Record<string, string> = {
    [GRAPH_METADATA.scheme]: 'checksum',
    [GRAPH_METADATA.ageIndex]: String(index),
    [GRAPH_METADATA.payloadUrl]: r.payload.url,
    [GRAPH_METADATA.payloadSize]: String(r.payload.size),
    [GRAPH_METADATA.payloadSignature]: r.payload.signature,
    [GRAPH_METADATA.releaseId]: r.id,
  };
  if (r.barrier) {
    m[GRAPH_METADATA.barrier] = 'true';
    m[GRAPH_METADATA.barrierReason] = r.barrier.reason;
  }
  if (r.deadEnd) {
    m[GRAPH_METADATA.deadEnd] = 'true';
    m[GRAPH_METADATA.deadEndReason] = r.deadEnd.reason;
  }
  if (r.rollout) {
    m[GRAPH_METADATA.rolloutStartEpoch] = String(Math.floor(Date.parse(r.rollout.startAt) / 1000));
    m[GRAPH_METADATA.rolloutStartValue] = String(r.rollout.startValue);
    m[GRAPH_METADATA.rolloutDurationMinutes] = String(r.rollout.durationMinutes);
  }
  return m;
}

/** Wariness of a client derived from its uuid, stable per client, in [0, 1). */
export function warinessOf(nodeUuid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeUuid.length; i++) {
    h ^= nodeUuid.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x1_0000_0000;
}
