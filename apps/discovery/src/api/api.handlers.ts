import type { MessageBus } from '#lib/messaging';
import { FleetError } from '#contracts/common';
import {
  DISCOVERY,
  deregisterInstanceSchema,
  discoveryVerbs,
  getInstanceSchema,
  instancesQuerySchema,
  listServicesSchema,
  queryInstancesSchema,
  registerInstanceSchema,
  ttlUpdateSchema,
} from '#contracts/discovery';
import type { CatalogQueries } from '../catalog/catalog.queries.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import { toView } from '../catalog/records.js';
import { apiInstanceId, applyApiRegistration, applyTtlUpdate } from '../catalog/transitions.js';
import { emptyDraft } from '../catalog/records.js';

/** `<root>.svc.discovery.<verb>`: the API the gateway, the CLI and other services call. */
export function serveDiscoveryApi(bus: MessageBus, catalog: CatalogService, queries: CatalogQueries): void {
  const subject = (verb: string) => bus.subjects.svc(DISCOVERY, verb);

  bus.serve(subject(discoveryVerbs.register), {
    name: 'discovery.register',
    schema: registerInstanceSchema,
    handler: async (input) => {
      const id = apiInstanceId(input);
      const now = new Date().toISOString();
      const committed = await catalog.commit({ ids: [id] }, (rows) => applyApiRegistration(rows[0], input, now));
      const record = committed?.changes.find((c) => c.instanceId === id && c.record)?.record ?? (await catalog.requireRecord(id));
      return { index: committed?.index ?? catalog.cache.serviceIndex(record.service), instance: toView(record) };
    },
  });

  bus.serve(subject(discoveryVerbs.deregister), {
    name: 'discovery.deregister',
    schema: deregisterInstanceSchema,
    handler: async ({ id }) => {
      let found = false;
      const committed = await catalog.commit({ ids: [id] }, (rows) => {
        const draft = emptyDraft();
        const row = rows.find((r) => r.id === id);
        if (row) {
          found = true;
          draft.deletes.push(row);
        }
        return draft;
      });
      if (!found || !committed) throw new FleetError('not_found', `no instance "${id}"`);
      return { index: committed.index, id };
    },
  });

  bus.serve(subject(discoveryVerbs.ttl), {
    name: 'discovery.ttl',
    schema: ttlUpdateSchema,
    handler: async (input) => {
      const now = new Date().toISOString();
      let health: string | undefined;
      const committed = await catalog.commit({ ids: [input.instanceId] }, (rows) => {
        const draft = applyTtlUpdate(rows[0], input, now);
        health = (draft.upserts[0]?.record ?? draft.quiet?.[0])?.health;
        return draft;
      });
      const service = catalog.cache.get(input.instanceId)?.service;
      return { index: committed?.index ?? (service ? catalog.cache.serviceIndex(service) : catalog.cache.index), health };
    },
  });

  bus.serve(subject(discoveryVerbs.get), {
    name: 'discovery.get',
    schema: getInstanceSchema,
    handler: ({ id }) => queries.get(id),
  });

  // Blocking queries park here: their own queue subscription would not help, the waiters do.
  bus.serve(subject(discoveryVerbs.instances), {
    name: 'discovery.instances',
    schema: instancesQuerySchema,
    trace: false,
    handler: (q) => queries.instances(q),
  });

  bus.serve(subject(discoveryVerbs.list), {
    name: 'discovery.list',
    schema: listServicesSchema,
    trace: false,
    handler: (q) => queries.list(q),
  });

  bus.serve(subject(discoveryVerbs.query), {
    name: 'discovery.query',
    schema: queryInstancesSchema,
    handler: (q) => queries.query(q),
  });
}
