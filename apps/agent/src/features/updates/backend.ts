import type { BootOutcome, Slot } from './boot-state.js';

/**
 * What the updates feature needs from an OS image mechanism. The built-in `ab` backend keeps two
 * slots and a boot-state file; an `rpm-ostree` backend would map stage → `rpm-ostree rebase`
 * (deployment not yet default), markTrial → make it default with greenboot's boot counter,
 * commit → `greenboot` success, fallback → `rpm-ostree rollback`; Flatcar's update engine maps
 * stage → `update_engine` writing the passive partition, markTrial → `cgpt` priority/tries,
 * commit → `cgpt successful=1`. The feature drives every backend through these verbs only.
 */
export interface UpdateBackend {
  readonly name: string;
  /** Loads state and applies the bootloader's once-per-boot transition. */
  init(initialVersion?: string): Promise<BootInfo>;
  status(): BackendStatus;
  /** Writes a verified payload file into the inactive slot. */
  stage(payloadFile: string | null, image: { version: string; sha256: string }): Promise<void>;
  /** Arms the inactive slot for a trial boot. */
  markTrial(): Promise<void>;
  /** Confirms the booted trial slot as good. */
  commit(): Promise<void>;
  /** Points the next boot back at the last good slot. */
  fallback(): Promise<void>;
  /** Records that a reboot is intended, then reboots (never returns on real hardware). */
  reboot(reason: string): Promise<void>;
}

export interface BootInfo {
  outcome: BootOutcome;
  /** True when this start is a new boot (not a mere agent restart). */
  newBoot: boolean;
}

export interface BackendStatus {
  bootedSlot: Slot | null;
  bootedVersion: string;
  /** The booted slot is on trial: health checks decide whether it stays. */
  trial: boolean;
  /** Version and digest in the slot that is not booted (the previous or the staged image). */
  inactive: { version: string; sha256: string | null } | null;
  /** The next boot goes to the inactive slot. */
  armed: boolean;
  lastGoodVersion: string;
}
