import type { NodeUpdateState } from '#contracts/updater';
import { isTerminal } from './node-state-machine.js';

/** A rollout's two per-node deadlines, in seconds. */
export interface NodeDeadlines {
  /** Longest stay in one working state (`pending` … `verifying`, `awaiting_reboot` excepted). */
  progressSeconds: number;
  /** Longest silence in `awaiting_reboot`: neither a report nor a reboot-slot request. */
  rebootWaitSeconds: number;
}

/** What the controller knows of an activated node; times in epoch milliseconds. */
export interface NodeClock {
  state: NodeUpdateState;
  /** When it entered its current state. */
  stateAt: number;
  /** Its last recorded reboot-slot request (recorded while it is `awaiting_reboot`). */
  seenAt: number;
  online: boolean;
}

/** Waiting nodes' requests are written at most every 30 s, or a quarter of their deadline if shorter. */
export const SEEN_RESOLUTION_MAX_SECONDS = 30;
export const SEEN_RESOLUTION_SHARE = 0.25;

/**
 * How stale a waiting node's recorded request may be (`agents/slot-requests.ts` writes them at
 * most this often): the node may have asked up to this long after its `seenAt`. The deadline
 * allows for it, so a node is never failed early, at most this late.
 */
export function seenResolutionSeconds(rebootWaitSeconds: number): number {
  return Math.min(SEEN_RESOLUTION_MAX_SECONDS, rebootWaitSeconds * SEEN_RESOLUTION_SHARE);
}

/**
 * Why a node is overdue at `now`, or null. A working state must end within `progressSeconds`
 * (the agent reports every step, so a silent node is stuck or gone). `awaiting_reboot` is
 * different: waiting for a free slot or an open maintenance window can rightly take days, and the
 * agent reports it once. But a waiting agent keeps asking for its slot (on every slot-freed
 * notice, after the updater's retry hint, and at least every `pollSeconds`), so it is overdue only
 * after `rebootWaitSeconds` with neither a report nor a request. An offline node that has not
 * started (`pending`) is not overdue: it picks the update up when it comes back.
 */
export function overdueReason(node: NodeClock, deadlines: NodeDeadlines, now: number): string | null {
  if (isTerminal(node.state) || (node.state === 'pending' && !node.online)) return null;
  if (node.state === 'awaiting_reboot') {
    const lastHeard = Math.max(node.stateAt, node.seenAt + seenResolutionSeconds(deadlines.rebootWaitSeconds) * 1000);
    const silentMs = now - lastHeard;
    return silentMs > deadlines.rebootWaitSeconds * 1000 ? timeoutMessage(node.state, deadlines.rebootWaitSeconds) : null;
  }
  return now - node.stateAt > deadlines.progressSeconds * 1000 ? timeoutMessage(node.state, deadlines.progressSeconds) : null;
}

/** The message stored with code `timeout` (shown as `timeout: <message>`). */
export function timeoutMessage(state: NodeUpdateState, seconds: number): string {
  return state === 'awaiting_reboot'
    ? `no report or reboot-slot request for ${seconds} s in awaiting_reboot`
    : `no report for ${seconds} s in ${state}`;
}
