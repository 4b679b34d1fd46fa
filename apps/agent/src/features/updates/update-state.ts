import { z } from 'zod';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';

export const desiredSchema = z.object({
  rolloutId: z.string(),
  version: z.string(),
  arch: z.string(),
  rollback: z.boolean(),
  group: z.string(),
  payload: z
    .object({ url: z.string(), sha256: z.string(), size: z.number(), signature: z.string() })
    .nullable(),
});

export const phaseSchema = z.enum(['idle', 'downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying', 'rolling_back']);
export type Phase = z.output<typeof phaseSchema>;

/**
 * The runner's own persisted state (the boot state belongs to the backend). With both on disk,
 * the agent picks up where it was after any restart or reboot, and never repeats an update it
 * already finished or refused.
 */
export const updateStateSchema = z.object({
  v: z.literal(1),
  phase: phaseSchema,
  target: desiredSchema.nullable(),
  lockHeld: z.boolean(),
  /** Reported `awaiting_reboot` for the current target already. */
  waitReported: z.boolean().default(false),
  /** Why the trial slot was abandoned, reported with `rolled_back` after the fallback boot. */
  failedCheck: z.object({ name: z.string(), reason: z.string() }).nullable().default(null),
  done: z
    .object({
      key: z.string(),
      state: z.enum(['succeeded', 'failed', 'rolled_back']),
      code: z.string().optional(),
      message: z.string().optional(),
    })
    .nullable(),
});
export type UpdateState = z.output<typeof updateStateSchema>;

export const idleState: UpdateState = { v: 1, phase: 'idle', target: null, lockHeld: false, waitReported: false, failedCheck: null, done: null };

export class UpdateStateStore {
  private readonly path: string;
  constructor(
    dir: string,
    private readonly durable: boolean,
  ) {
    this.path = join(dir, 'update-state.json');
  }

  async load(): Promise<UpdateState> {
    const raw = await readJsonFile(this.path);
    const parsed = raw === undefined ? undefined : updateStateSchema.safeParse(raw);
    return parsed?.success ? parsed.data : { ...idleState };
  }

  async save(state: UpdateState): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(state)}\n`, this.durable);
  }
}
