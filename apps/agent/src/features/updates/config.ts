import { z } from 'zod';

const commandCheck = z
  .object({
    name: z.string().min(1).max(64),
    command: z.string().min(1),
    timeoutSeconds: z.number().positive().default(10),
  })
  .strict();

const httpCheck = z
  .object({
    name: z.string().min(1).max(64),
    url: z.url(),
    expectStatus: z.number().int().min(100).max(599).optional(),
    timeoutSeconds: z.number().positive().default(5),
  })
  .strict();

export const healthCheckSchema = z.union([commandCheck, httpCheck]);
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;

/** The `updates` section of the agent config file. */
export const updatesConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    backend: z.enum(['ab']).default('ab'),
    /** ed25519 public keys trusted to sign releases: PEM, or base64 of the raw 32 bytes. */
    trustedKeys: z.array(z.string().min(1)).default([]),
    /**
     * `command` runs `rebootCommand`; `restart` asks the agent core to restart the process, which
     * then counts as a boot (tests and process-level emulation). The simulator always restarts.
     */
    rebootMode: z.enum(['command', 'restart']).default('command'),
    rebootCommand: z.string().min(1).default('systemctl reboot'),
    healthChecks: z.array(healthCheckSchema).max(32).default([]),
    /** After booting a trial slot, the checks must pass within this long. */
    healthDeadlineSeconds: z.number().positive().default(300),
    healthRetrySeconds: z.number().positive().default(5),
    /** How often to ask again for a reboot slot while it is denied. */
    lockRetrySeconds: z.number().positive().default(30),
    /** Re-read the desired update this often even without a notice (level-triggered). */
    pollSeconds: z.number().positive().default(900),
    downloadTimeoutSeconds: z.number().positive().default(600),
    downloadRetries: z.number().int().nonnegative().default(5),
    /** Version the machine runs when the boot state is first created (default: the OS facts). */
    initialVersion: z.string().min(1).max(64).optional(),
  })
  .strict();

export type UpdatesConfig = z.output<typeof updatesConfigSchema>;
