import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MessageBus } from '#lib/messaging';
import {
  UPDATER,
  createReleaseSchema,
  deadEndsSchema,
  flagNodesSchema,
  getReleaseSchema,
  graphRequestSchema,
  listReleasesSchema,
  updaterVerbs,
  withdrawReleaseSchema,
} from '#contracts/updater';
import { UPDATER_BUS } from '../common/tokens.js';
import { ReleasesService } from './releases.service.js';

/** NATS API of releases and the update graph: `<root>.svc.updater.releases.*`, `.graph`. */
@Injectable()
export class ReleasesHandlers implements OnApplicationBootstrap {
  constructor(
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    private readonly releases: ReleasesService,
  ) {}

  onApplicationBootstrap(): void {
    const svc = (verb: string) => this.bus.subjects.svc(UPDATER, verb);
    this.bus.serve(svc(updaterVerbs.createRelease), {
      name: 'updater.releases.create',
      schema: createReleaseSchema,
      maxBytes: 64 * 1024,
      handler: (input) => this.releases.create(input),
    });
    this.bus.serve(svc(updaterVerbs.listReleases), {
      name: 'updater.releases.list',
      schema: listReleasesSchema,
      handler: (input) => this.releases.list(input),
    });
    this.bus.serve(svc(updaterVerbs.getRelease), {
      name: 'updater.releases.get',
      schema: getReleaseSchema,
      handler: (input) => this.releases.get(input),
    });
    this.bus.serve(svc(updaterVerbs.withdrawRelease), {
      name: 'updater.releases.withdraw',
      schema: withdrawReleaseSchema,
      handler: (input) => this.releases.withdraw(input.id, input.reason),
    });
    this.bus.serve(svc(updaterVerbs.deadEnds), {
      name: 'updater.releases.dead-ends',
      schema: deadEndsSchema,
      handler: (input) => this.releases.deadEnds(input),
    });
    this.bus.serve(svc(updaterVerbs.flagNodes), {
      name: 'updater.releases.flag-nodes',
      schema: flagNodesSchema,
      handler: (input) => this.releases.flagNodes(input),
    });
    this.bus.serve(svc(updaterVerbs.graph), {
      name: 'updater.graph',
      schema: graphRequestSchema,
      handler: (input) => this.releases.graph(input),
    });
  }
}
