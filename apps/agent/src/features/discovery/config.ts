import { z } from 'zod';
import { addressSchema, serviceDefinitionSchema } from '#contracts/discovery';

/** The `discovery` section of the agent config file (every key documented in docs/discovery.md). */
export const discoveryConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * Directory of service definition files (`*.json`, `*.yaml`, `*.yml`), each one definition or
   * `{ services: [...] }`. Watched: adding, changing or removing a file re-registers the set.
   */
  servicesDir: z.string().min(1).optional(),
  /** Definitions written straight into the agent config. */
  services: z.array(serviceDefinitionSchema).max(256).default([]),
  /** Address services are registered under when their definition names none (default: first non-loopback IPv4). */
  advertiseAddress: addressSchema.optional(),
  /**
   * `host:port` of the local TTL endpoint, where services report their TTL checks:
   * `PUT /v1/check/<serviceId>/<checkId>/pass|warn|fail` (body = output). Unset: disabled.
   */
  ttlListen: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'host:port')
    .optional(),
  /** Every check's state is sent this often, besides the transitions. */
  summaryIntervalSeconds: z.number().positive().max(3600).default(60),
  /**
   * Anti-entropy: the full set is registered again this often even without a change, so the
   * catalog converges after anything it lost (a decommission, a database restore).
   */
  syncSeconds: z.number().positive().max(86_400).default(300),
  /** The services directory is re-read this often too (file watchers miss events on some filesystems). */
  rescanSeconds: z.number().positive().max(3600).default(5),
});

export type DiscoveryConfig = z.output<typeof discoveryConfigSchema>;
