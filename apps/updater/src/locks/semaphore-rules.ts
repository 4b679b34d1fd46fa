import type { LockDenialReason } from '#contracts/updater';

export interface Holder {
  id: string;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

export interface SemaphoreState {
  capacity: number;
  /** Current holders of one group (expired ones may still be listed; they are reaped here). */
  holders: Holder[];
}

export type AcquireDecision =
  | { granted: true; newlyAcquired: boolean; holder: Holder; expired: Holder[]; holders: Holder[] }
  | { granted: false; reason: LockDenialReason; expired: Holder[]; holders: Holder[] };

/** Holders whose lease has not run out at `now`, and those whose lease has. */
export function partitionExpired(holders: Holder[], now: number): { live: Holder[]; expired: Holder[] } {
  const live: Holder[] = [];
  const expired: Holder[] = [];
  for (const h of holders) (h.expiresAt > now ? live : expired).push(h);
  return { live, expired };
}

/**
 * Rules of the reboot semaphore of one group:
 * - a slot is owned by one id; the same id acquiring again keeps its one slot and renews the
 *   lease (recursive), even when the group is full or the window has closed;
 * - a new holder needs a free slot (live holders < capacity) and an open maintenance window;
 * - a lease that ran out frees its slot, so a silent machine cannot block the group forever.
 */
export function decideAcquire(
  state: SemaphoreState,
  request: { id: string; leaseMs: number; windowOpen: boolean },
  now: number,
): AcquireDecision {
  const { live, expired } = partitionExpired(state.holders, now);
  const own = live.find((h) => h.id === request.id);
  if (own) {
    const renewed = { ...own, renewedAt: now, expiresAt: now + request.leaseMs };
    return { granted: true, newlyAcquired: false, holder: renewed, expired, holders: live.map((h) => (h === own ? renewed : h)) };
  }
  if (!request.windowOpen) return { granted: false, reason: 'outside_maintenance_window', expired, holders: live };
  if (live.length >= state.capacity) return { granted: false, reason: 'lock_unavailable', expired, holders: live };
  const holder = { id: request.id, acquiredAt: now, renewedAt: now, expiresAt: now + request.leaseMs };
  return { granted: true, newlyAcquired: true, holder, expired, holders: [...live, holder] };
}

/**
 * Renew keeps a live slot only: a lapsed or never-held one is NOT silently re-acquired (the
 * caller may have rebooted while someone else took its place), it is denied as unavailable.
 */
export function decideRenew(state: SemaphoreState, request: { id: string; leaseMs: number }, now: number): AcquireDecision {
  const { live, expired } = partitionExpired(state.holders, now);
  const own = live.find((h) => h.id === request.id);
  if (!own) return { granted: false, reason: 'lock_unavailable', expired, holders: live };
  const renewed = { ...own, renewedAt: now, expiresAt: now + request.leaseMs };
  return { granted: true, newlyAcquired: false, holder: renewed, expired, holders: live.map((h) => (h === own ? renewed : h)) };
}

/** Only the owner releases its slot; releasing a slot not held is a no-op (idempotent, as FleetLock). */
export function decideRelease(state: SemaphoreState, id: string, now: number): { released: boolean; expired: Holder[]; holders: Holder[] } {
  const { live, expired } = partitionExpired(state.holders, now);
  const remaining = live.filter((h) => h.id !== id);
  return { released: remaining.length !== live.length, expired, holders: remaining };
}
