import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MessageBus } from '#lib/messaging';
import {
  UPDATER,
  createRolloutSchema,
  listRolloutsSchema,
  rolloutActionSchema,
  rolloutIdSchema,
  rolloutNodesSchema,
  updaterVerbs,
} from '#contracts/updater';
import { UPDATER_BUS } from '../common/tokens.js';
import { RolloutsService } from './rollouts.service.js';

/** NATS API of rollouts: `<root>.svc.updater.rollouts.*`. */
@Injectable()
export class RolloutsHandlers implements OnApplicationBootstrap {
  constructor(
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    private readonly rollouts: RolloutsService,
  ) {}

  onApplicationBootstrap(): void {
    const svc = (verb: string) => this.bus.subjects.svc(UPDATER, verb);
    this.bus.serve(svc(updaterVerbs.createRollout), {
      name: 'updater.rollouts.create',
      schema: createRolloutSchema,
      maxBytes: 64 * 1024,
      handler: (input) => this.rollouts.create(input),
    });
    this.bus.serve(svc(updaterVerbs.listRollouts), {
      name: 'updater.rollouts.list',
      schema: listRolloutsSchema,
      handler: (input) => this.rollouts.list(input),
    });
    this.bus.serve(svc(updaterVerbs.getRollout), {
      name: 'updater.rollouts.get',
      schema: rolloutIdSchema,
      handler: (input) => this.rollouts.get(input.id),
    });
    this.bus.serve(svc(updaterVerbs.pauseRollout), {
      name: 'updater.rollouts.pause',
      schema: rolloutActionSchema,
      handler: (input) => this.rollouts.pause(input.id, input.reason),
    });
    this.bus.serve(svc(updaterVerbs.resumeRollout), {
      name: 'updater.rollouts.resume',
      schema: rolloutActionSchema,
      handler: (input) => this.rollouts.resume(input.id),
    });
    this.bus.serve(svc(updaterVerbs.abortRollout), {
      name: 'updater.rollouts.abort',
      schema: rolloutActionSchema,
      handler: (input) => this.rollouts.abort(input.id, input.reason),
    });
    this.bus.serve(svc(updaterVerbs.rollbackRollout), {
      name: 'updater.rollouts.rollback',
      schema: rolloutActionSchema,
      handler: (input) => this.rollouts.rollback(input.id, input.reason),
    });
    this.bus.serve(svc(updaterVerbs.rolloutNodes), {
      name: 'updater.rollouts.nodes',
      schema: rolloutNodesSchema,
      handler: (input) => this.rollouts.nodes(input),
    });
  }
}
