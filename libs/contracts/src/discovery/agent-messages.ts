import { z } from 'zod';
import { groupSchema } from '../common/ids.js';
import { checkIdSchema, healthStateSchema } from './checks.js';
import { addressSchema, instanceIdSchema, serviceDefinitionSchema } from './instances.js';

/**
 * Agent ↔ discovery messages: plain versioned JSON (`v: 1`), documented in docs/discovery.md.
 *
 * `<root>.agent.<nodeId>.discovery.register`, request/reply. The agent sends the FULL set of
 * service definitions on its machine each time (at start, on any change of its definition
 * files, after a reconnect). Idempotent: unchanged definitions change nothing; definitions no
 * longer present are deregistered.
 */
export const AGENT_DISCOVERY_REGISTER = 'discovery.register';

export const agentServiceSchema = serviceDefinitionSchema.and(z.object({ address: addressSchema }));

export const agentRegisterSchema = z.object({
  v: z.literal(1),
  group: groupSchema.default('default'),
  services: z.array(agentServiceSchema).max(512),
});
export type AgentRegister = z.input<typeof agentRegisterSchema>;

export const agentRegisterReplySchema = z.object({
  index: z.number().int(),
  /** Instance ids, in the order of `services`: `<nodeId>:<serviceId>`. */
  instances: z.array(instanceIdSchema),
  removed: z.array(instanceIdSchema),
});
export type AgentRegisterReply = z.output<typeof agentRegisterReplySchema>;

/** Instance id of a service defined on a node. */
export function agentInstanceId(nodeId: string, serviceId: string): string {
  return `${nodeId}:${serviceId}`;
}

export const checkReportSchema = z.object({
  /** The service definition's id (defaults to its name). */
  serviceId: z.string().min(1).max(100),
  checkId: checkIdSchema,
  status: healthStateSchema,
  output: z.string().max(4096).default(''),
  /** When the agent observed this status (ISO time). */
  at: z.string().datetime(),
});
export type CheckReport = z.input<typeof checkReportSchema>;

/**
 * `<root>.agent.<nodeId>.report.discovery`, JetStream, message id `<nodeId>-discovery-<seq>`.
 * `transition`: checks whose state changed (after thresholds); `summary`: every check's state,
 * sent periodically and after a reconnect so a lost transition converges.
 */
export const agentDiscoveryReportSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['transition', 'summary']),
  checks: z.array(checkReportSchema).max(4096),
});
export type AgentDiscoveryReport = z.input<typeof agentDiscoveryReportSchema>;

/**
 * `<root>.node.<nodeId>.discovery.reaped`, platform → agent: these services of the node were
 * removed after being critical longer than their `deregisterCriticalAfter`. The agent stops
 * registering them (as Consul's agent does) until their definition changes or it restarts.
 */
export const DISCOVERY_REAPED_TOPIC = 'discovery.reaped';
export const reapedNoticeSchema = z.object({ v: z.literal(1), serviceIds: z.array(z.string().min(1).max(100)).max(512) });
export type ReapedNotice = z.output<typeof reapedNoticeSchema>;
