import { consumeDurable, type DurableConsumer, type MessageBus } from '#lib/messaging';
import { FleetError } from '#contracts/common';
import {
  AGENT_DISCOVERY_REGISTER,
  agentDiscoveryReportSchema,
  agentRegisterSchema,
  type AgentRegisterReply,
} from '#contracts/discovery';
import { counter } from '#lib/telemetry';
import type { CatalogService } from '../catalog/catalog.service.js';
import {
  agentRegistrationIds,
  applyAgentRegistration,
  applyCheckReports,
  reportsChangeNothing,
} from '../catalog/transitions.js';

const reportsTotal = counter('fleet_discovery_agent_reports_total', 'Agent check reports, by kind and whether they changed the catalog', [
  'kind',
  'result',
]);

/**
 * `<root>.agent.<nodeId>.discovery.register` (request/reply): an agent's full set of service
 * definitions. The node id comes from the subject, which the node's credentials confine.
 */
export function serveAgentRegistration(bus: MessageBus, catalog: CatalogService): void {
  bus.serve(bus.subjects.anyAgent(AGENT_DISCOVERY_REGISTER), {
    name: 'discovery.agent-register',
    schema: agentRegisterSchema,
    maxBytes: 1024 * 1024,
    handler: async (input, ctx): Promise<AgentRegisterReply> => {
      const nodeId = ctx.nodeId;
      if (!nodeId) throw new FleetError('bad_request', 'no node id in subject');
      const now = new Date().toISOString();
      const ids = agentRegistrationIds(nodeId, input);
      let removed: string[] = [];
      const committed = await catalog.commit({ ids, nodeId }, (rows) => {
        const draft = applyAgentRegistration(rows, nodeId, input, now);
        removed = draft.deletes.filter((d) => !ids.includes(d.id)).map((d) => d.id);
        return draft;
      });
      const index = committed?.index ?? Math.max(1, ...input.services.map((s) => catalog.cache.serviceIndex(s.name)));
      return { index, instances: ids, removed };
    },
  });
}

/**
 * Check transitions and periodic summaries from agents, via the durable JetStream consumer
 * shared by every replica. A summary that matches what the catalog already shows is acknowledged
 * without touching the database.
 */
export async function consumeAgentReports(bus: MessageBus, catalog: CatalogService): Promise<DurableConsumer> {
  return consumeDurable(bus, {
    durable: 'discovery-agent-reports',
    stream: bus.subjects.reportsStream,
    filterSubject: bus.subjects.anyAgentReport('discovery'),
    name: 'discovery.agent-report',
    schema: agentDiscoveryReportSchema,
    ackWaitMs: 30_000,
    handler: async (report, meta) => {
      const nodeId = meta.nodeId;
      if (!nodeId) throw new FleetError('bad_request', 'no node id in subject');
      if (reportsChangeNothing((id) => catalog.cache.get(id), nodeId, report.checks)) {
        reportsTotal.inc({ kind: report.kind, result: 'unchanged' });
        return;
      }
      const ids = [...new Set(report.checks.map((c) => `${nodeId}:${c.serviceId}`))];
      const now = new Date().toISOString();
      const committed = await catalog.commit({ ids }, (rows) => applyCheckReports(rows, nodeId, report.checks, now));
      reportsTotal.inc({ kind: report.kind, result: committed ? 'changed' : 'unchanged' });
    },
  });
}
