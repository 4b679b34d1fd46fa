import { z } from 'zod';
import { healthStateSchema } from './checks.js';
import { instanceIdSchema, instanceViewSchema, serviceNameSchema } from './instances.js';

/**
 * `<root>.events.discovery.service.<name>`: every change of membership or health of one
 * service. `instance` is the state after the change, null once deregistered. Replicas apply
 * these to their in-memory catalog (DNS, blocking queries), ignoring ones older than they hold.
 */
export const DISCOVERY_EVENT_PREFIX = 'service';

export function serviceEvent(name: string): string {
  return `${DISCOVERY_EVENT_PREFIX}.${name}`;
}

export const instanceChangeSchema = z.object({
  kind: z.enum(['registered', 'updated', 'health', 'deregistered']),
  instanceId: instanceIdSchema,
  index: z.number().int(),
  previousHealth: healthStateSchema.nullable(),
  instance: instanceViewSchema.nullable(),
});
export type InstanceChange = z.output<typeof instanceChangeSchema>;

export const serviceChangedEventSchema = z.object({
  service: serviceNameSchema,
  index: z.number().int(),
  changes: z.array(instanceChangeSchema),
});
export type ServiceChangedEvent = z.output<typeof serviceChangedEventSchema>;
