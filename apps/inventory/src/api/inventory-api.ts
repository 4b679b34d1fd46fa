import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import {
  INVENTORY,
  getNodeSchema,
  helloSchema,
  inventoryVerbs,
  type InventoryStats,
  listNodesSchema,
  matchNodesSchema,
  updateNodeSchema,
} from '#contracts/inventory';
import { encodeJson, MessageBus } from '#lib/messaging';
import { z } from 'zod';
import { hostname } from 'node:os';
import { HeartbeatService } from '../heartbeats/heartbeat.service.js';
import { OfflineDetectorService } from '../offline/offline-detector.service.js';
import { NodeAdminService } from '../nodes/node-admin.service.js';
import { NodeQueryService } from '../nodes/node-query.service.js';
import { RegistrationService } from '../nodes/registration.service.js';

/** A hello is a few hundred bytes; 16 KiB leaves room for many labels and runtimes. */
export const HELLO_MAX_BYTES = 16 * 1024;

/**
 * The inventory's NATS surface: the agent-facing hello, and the request/reply API the gateway,
 * fleetctl and other services use (`<root>.svc.inventory.<verb>`). Validation, size limits and
 * typed error replies come from `MessageBus.serve`.
 */
@Injectable()
export class InventoryApi {
  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(RegistrationService) private readonly registration: RegistrationService,
    @Inject(NodeQueryService) private readonly query: NodeQueryService,
    @Inject(NodeAdminService) private readonly admin: NodeAdminService,
    @Inject(HeartbeatService) private readonly heartbeats: HeartbeatService,
    @Inject(OfflineDetectorService) private readonly detector: OfflineDetectorService,
  ) {}

  serve(): void {
    const { bus } = this;
    const svc = (verb: string) => bus.subjects.svc(INVENTORY, verb);

    bus.serve(bus.subjects.anyAgent('hello'), {
      name: 'inventory.hello',
      schema: helloSchema,
      maxBytes: HELLO_MAX_BYTES,
      handler: (hello, ctx) => {
        // A node's credentials confine it to its own subject; the body must not claim another id.
        if (ctx.nodeId !== hello.nodeId) {
          throw new FleetError('forbidden', `hello for node "${hello.nodeId}" sent on the subject of node "${ctx.nodeId}"`);
        }
        this.heartbeats.nodeSaidHello(hello.nodeId);
        return this.registration.hello(hello);
      },
    });
    bus.serve(svc(inventoryVerbs.list), {
      name: 'inventory.list',
      schema: listNodesSchema,
      handler: (q) => this.query.list(q),
    });
    bus.serve(svc(inventoryVerbs.get), {
      name: 'inventory.get',
      schema: getNodeSchema,
      handler: ({ id }) => this.query.get(id),
    });
    bus.serve(svc(inventoryVerbs.update), {
      name: 'inventory.update',
      schema: updateNodeSchema,
      handler: (change) => this.admin.update(change),
    });
    bus.serve(svc(inventoryVerbs.decommission), {
      name: 'inventory.decommission',
      schema: getNodeSchema,
      handler: ({ id }) => this.admin.decommission(id),
    });
    bus.serve(svc(inventoryVerbs.summary), {
      name: 'inventory.summary',
      schema: z.unknown(),
      handler: () => this.query.summary(),
    });
    bus.serve(svc(inventoryVerbs.stats), {
      name: 'inventory.stats',
      schema: z.unknown(),
      trace: false,
      handler: (): InventoryStats => ({
        replica: `${hostname()}:${process.pid}`,
        heartbeats: this.heartbeats.stats(),
        offlineDetection: { leader: this.detector.isLeader, passes: this.detector.passes },
      }),
    });
    bus.serve(svc(inventoryVerbs.match), {
      name: 'inventory.match',
      schema: matchNodesSchema,
      handler: async (target) => {
        const reply = await this.query.match(target);
        this.ensureFits(reply, 'match');
        return reply;
      },
    });
  }

  /** A reply larger than the server's max payload could not be sent; say how to page instead. */
  private ensureFits(reply: unknown, verb: string): void {
    const max = this.bus.nc.info?.max_payload ?? 1024 * 1024;
    const size = encodeJson({ ok: true, data: reply }).length;
    if (size > max) {
      throw new FleetError(
        'payload_too_large',
        `${verb} reply of ${size} bytes exceeds the NATS max payload (${max}); pass limit and follow nextCursor`,
      );
    }
  }
}
