import { copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BackendStatus, BootInfo, UpdateBackend } from './backend.js';
import {
  applyBoot,
  bootStateSchema,
  fallback,
  inactiveSlot,
  initialBootState,
  markGood,
  markTrial,
  stageSlot,
  type BootState,
} from './boot-state.js';
import { fsyncDir, readJsonFile, writeFileAtomic } from './atomic-file.js';

export interface AbBackendOptions {
  /** `<dataDir>/updates` */
  dir: string;
  /** Version of the image in slot `a` on a machine that has never updated. */
  initialVersion: string;
  /**
   * Identifies the current boot: real machines pass the kernel's boot id, so an agent restart is
   * not a boot and a power cycle is. Without it (process-restart "reboots": tests, simulator) a
   * start is a boot only when a reboot was requested.
   */
  bootId?: () => Promise<string>;
  /** Runs the actual reboot (command, or the agent restart in tests and the simulator). */
  rebootHandler: (reason: string) => Promise<void>;
  /** Virtual slots (simulator): record versions only, never copy images. */
  virtual?: boolean;
  /** fsync every write; off in the simulator. */
  durable?: boolean;
  trialTries?: number;
}

/**
 * The built-in A/B backend: `<dir>/slots/{a,b}/image` and `<dir>/boot-state.json`, the file a
 * bootloader hook would read to choose the slot. Every change is written atomically.
 */
export class AbBackend implements UpdateBackend {
  readonly name = 'ab';
  private state!: BootState;
  private readonly statePath: string;
  private initialVersion: string;

  constructor(private readonly options: AbBackendOptions) {
    this.statePath = join(options.dir, 'boot-state.json');
    this.initialVersion = options.initialVersion;
  }

  /** `initialVersion` overrides the option (it is known only once the agent has its facts). */
  async init(initialVersion = this.options.initialVersion): Promise<BootInfo> {
    this.initialVersion = initialVersion;
    const raw = await readJsonFile(this.statePath);
    const parsed = raw === undefined ? undefined : bootStateSchema.safeParse(raw);
    this.state = parsed?.success ? parsed.data : initialBootState(initialVersion);
    const bootId = this.options.bootId ? await this.options.bootId() : null;
    const newBoot = bootId === null ? this.state.rebootPending : this.state.bootId !== bootId;
    if (!newBoot) {
      if (raw === undefined) await this.save(this.state);
      return { outcome: 'unchanged', newBoot: false };
    }
    const { state, outcome } = applyBoot(this.state);
    await this.save({ ...state, bootId });
    return { outcome, newBoot: true };
  }

  status(): BackendStatus {
    const s = this.state;
    const inactive = s.slots[inactiveSlot(s)];
    return {
      bootedSlot: s.booted,
      bootedVersion: s.slots[s.booted]?.version ?? this.initialVersion,
      trial: s.trial,
      inactive: inactive ? { version: inactive.version, sha256: inactive.sha256 } : null,
      armed: s.next !== s.booted,
      lastGoodVersion: s.slots[s.lastGood]?.version ?? this.initialVersion,
    };
  }

  get bootState(): BootState {
    return this.state;
  }

  async stage(payloadFile: string | null, image: { version: string; sha256: string }): Promise<void> {
    const slot = inactiveSlot(this.state);
    if (!this.options.virtual) {
      if (!payloadFile) throw new Error('the ab backend needs a payload file');
      const slotDir = join(this.options.dir, 'slots', slot);
      await mkdir(slotDir, { recursive: true });
      const temp = join(slotDir, `.image.${randomUUID()}.tmp`);
      await copyFile(payloadFile, temp);
      if (this.durable) {
        const fh = await open(temp, 'r+');
        await fh.sync().finally(() => fh.close());
      }
      await rename(temp, join(slotDir, 'image'));
      if (this.durable) await fsyncDir(slotDir);
    }
    await this.save(stageSlot(this.state, { version: image.version, sha256: image.sha256, stagedAt: new Date().toISOString() }));
  }

  /** The image bytes in a slot (tests and diagnostics). */
  async readSlot(slot: 'a' | 'b'): Promise<Buffer | undefined> {
    return readFile(join(this.options.dir, 'slots', slot, 'image')).catch(() => undefined);
  }

  async markTrial(): Promise<void> {
    await this.save(markTrial(this.state, this.options.trialTries ?? 1));
  }

  async commit(): Promise<void> {
    await this.save(markGood(this.state));
  }

  async fallback(): Promise<void> {
    await this.save(fallback(this.state));
  }

  async reboot(reason: string): Promise<void> {
    await this.save({ ...this.state, rebootPending: true });
    await this.options.rebootHandler(reason);
  }

  /** Wipes both slots' bookkeeping (tests). */
  async reset(): Promise<void> {
    await rm(this.options.dir, { recursive: true, force: true });
  }

  private get durable(): boolean {
    return this.options.durable !== false;
  }

  private async save(next: BootState): Promise<void> {
    await writeFileAtomic(this.statePath, `${JSON.stringify(next, null, 2)}\n`, this.durable);
    this.state = next;
  }
}
