import { NODE_UPDATE_STATES, TERMINAL_NODE_STATES, type NodeUpdateState } from '#contracts/updater';

const RANK = new Map<NodeUpdateState, number>(NODE_UPDATE_STATES.map((s, i) => [s, i]));

export function isTerminal(state: NodeUpdateState): boolean {
  return TERMINAL_NODE_STATES.includes(state);
}

/**
 * Legal per-node transitions. Progress moves forward along
 * pending → downloading → staged → awaiting_reboot → rebooting → verifying → succeeded and may
 * skip steps (an agent restarted mid-way reports where it is now); it never moves back, so a
 * duplicate or late report is ignored. `failed` is reachable from any non-terminal state;
 * `rolled_back` (the agent fell back to its old slot) from a state where the new slot was
 * written. Terminal states are final.
 */
export function canTransition(from: NodeUpdateState, to: NodeUpdateState): boolean {
  if (isTerminal(from) || from === to) return false;
  if (to === 'failed') return true;
  if (to === 'rolled_back') return RANK.get(from)! >= RANK.get('staged')!;
  if (to === 'pending') return false;
  return RANK.get(to)! > RANK.get(from)!;
}

export interface Transition {
  state: NodeUpdateState;
  at: string;
  code?: string;
  message?: string;
}

export interface NodeProgress {
  state: NodeUpdateState;
  stateAt: string;
  code: string | null;
  message: string | null;
  transitions: Transition[];
}

/** Applies a transition, timestamping it; returns null when it is not legal from the current state. */
export function applyTransition(node: NodeProgress, t: Transition): NodeProgress | null {
  if (!canTransition(node.state, t.state)) return null;
  return {
    state: t.state,
    stateAt: t.at,
    code: t.code ?? null,
    message: t.message ?? null,
    transitions: [...node.transitions, t],
  };
}
