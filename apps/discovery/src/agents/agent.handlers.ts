import type { MessageBus } from '#lib/messaging';
import { FleetError } from '#contracts/common';
import {
  AGENT_DISCOVERY_REGISTER,
  agentRegisterSchema,
  type AgentRegisterReply,
} from '#contracts/discovery';
import type { CatalogService } from '../catalog/catalog.service.js';
import { agentRegistrationIds, applyAgentRegistration } from '../catalog/transitions.js';

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
