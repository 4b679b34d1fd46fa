import { z } from 'zod';

/**
 * The A/B boot state, what a bootloader (GRUB's `boot_success`/`boot_indeterminate`, Android's
 * slot metadata) keeps: which slot is booted, which boots next, how many trial boots the next
 * slot has left, and the last slot that was confirmed good. Transitions are pure functions so the
 * rules are testable on their own; the backend persists the result atomically.
 */
export type Slot = 'a' | 'b';

export const slotInfoSchema = z.object({
  version: z.string(),
  sha256: z.string().nullable(),
  stagedAt: z.string().nullable(),
});
export type SlotInfo = z.output<typeof slotInfoSchema>;

export const bootStateSchema = z.object({
  v: z.literal(1),
  booted: z.enum(['a', 'b']),
  next: z.enum(['a', 'b']),
  triesLeft: z.number().int().nonnegative(),
  lastGood: z.enum(['a', 'b']),
  /** The booted slot has not been confirmed good yet. */
  trial: z.boolean(),
  slots: z.object({ a: slotInfoSchema.nullable(), b: slotInfoSchema.nullable() }),
  /** Set just before rebooting; a boot without it is a crash/power cycle, not our reboot. */
  rebootPending: z.boolean(),
  /** Kernel boot id (or process generation) of the boot the transition was last applied for. */
  bootId: z.string().nullable(),
});
export type BootState = z.output<typeof bootStateSchema>;

export function other(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

export function initialBootState(version: string): BootState {
  return {
    v: 1,
    booted: 'a',
    next: 'a',
    triesLeft: 0,
    lastGood: 'a',
    trial: false,
    slots: { a: { version, sha256: null, stagedAt: null }, b: null },
    rebootPending: false,
    bootId: null,
  };
}

export function inactiveSlot(state: BootState): Slot {
  return other(state.booted);
}

export function bootedVersion(state: BootState): string {
  return state.slots[state.booted]?.version ?? 'unknown';
}

/** Records a payload written into the inactive slot; the next boot is unchanged until armed. */
export function stageSlot(state: BootState, info: SlotInfo): BootState {
  if (state.trial) throw new Error('cannot stage while the booted slot is on trial');
  const target = inactiveSlot(state);
  return { ...state, next: state.booted, triesLeft: 0, slots: { ...state.slots, [target]: info } };
}

/** Arms the inactive slot for `tries` trial boots. */
export function markTrial(state: BootState, tries = 1): BootState {
  const target = inactiveSlot(state);
  if (!state.slots[target]) throw new Error(`slot ${target} holds no image`);
  if (tries < 1) throw new Error('tries must be at least 1');
  return { ...state, next: target, triesLeft: tries };
}

/** Confirms the booted trial slot: it becomes the last good slot and the default. */
export function markGood(state: BootState): BootState {
  return { ...state, trial: false, lastGood: state.booted, next: state.booted, triesLeft: 0 };
}

/** Points the next boot back at the last good slot (after a failed health check). */
export function fallback(state: BootState): BootState {
  return { ...state, next: state.lastGood, triesLeft: 0 };
}

export type BootOutcome = 'unchanged' | 'trial' | 'fallback' | 'good';

/**
 * What the bootloader does at boot, applied once per boot:
 * - next is another slot: the last good one boots plainly; a trial slot boots if it has tries left
 *   (one is used), else the last good slot boots;
 * - rebooted on an unconfirmed trial slot: it keeps booting while tries remain, else falls back.
 */
export function applyBoot(state: BootState): { state: BootState; outcome: BootOutcome } {
  const s: BootState = { ...state, rebootPending: false };
  if (s.next !== s.booted) {
    if (s.next === s.lastGood) {
      return { state: { ...s, booted: s.next, trial: false, triesLeft: 0 }, outcome: 'good' };
    }
    if (s.triesLeft > 0) {
      return { state: { ...s, booted: s.next, trial: true, triesLeft: s.triesLeft - 1 }, outcome: 'trial' };
    }
    return { state: { ...s, booted: s.lastGood, next: s.lastGood, trial: false, triesLeft: 0 }, outcome: 'fallback' };
  }
  if (s.trial) {
    if (s.triesLeft > 0) return { state: { ...s, triesLeft: s.triesLeft - 1 }, outcome: 'trial' };
    return { state: { ...s, booted: s.lastGood, next: s.lastGood, trial: false }, outcome: 'fallback' };
  }
  return { state: s, outcome: 'unchanged' };
}
