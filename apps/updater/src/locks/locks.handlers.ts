import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MessageBus } from '#lib/messaging';
import {
  UPDATER,
  acquireLockSchema,
  forceReleaseLockSchema,
  getGroupPolicySchema,
  groupPolicySchema,
  listLocksSchema,
  releaseLockSchema,
  updaterVerbs,
} from '#contracts/updater';
import { UPDATER_BUS } from '../common/tokens.js';
import { GroupPolicyService } from './group-policy.service.js';
import { SemaphoreService } from './semaphore.service.js';

/** Admin and FleetLock API of the reboot semaphore: `<root>.svc.updater.locks.*`. */
@Injectable()
export class LocksHandlers implements OnApplicationBootstrap {
  constructor(
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    private readonly semaphore: SemaphoreService,
    private readonly policies: GroupPolicyService,
  ) {}

  onApplicationBootstrap(): void {
    const svc = (verb: string) => this.bus.subjects.svc(UPDATER, verb);
    this.bus.serve(svc(updaterVerbs.listLocks), {
      name: 'updater.locks.list',
      schema: listLocksSchema,
      handler: (input) => this.semaphore.list(input.group),
    });
    this.bus.serve(svc(updaterVerbs.acquireLock), {
      name: 'updater.locks.acquire',
      schema: acquireLockSchema,
      handler: (input) => this.semaphore.acquire(input.id, input.group, input.leaseSeconds),
    });
    this.bus.serve(svc(updaterVerbs.releaseLock), {
      name: 'updater.locks.release',
      schema: releaseLockSchema,
      handler: async (input) => ({ released: (await this.semaphore.release(input.id, input.group)).released }),
    });
    this.bus.serve(svc(updaterVerbs.forceReleaseLock), {
      name: 'updater.locks.force-release',
      schema: forceReleaseLockSchema,
      handler: (input) => this.semaphore.forceRelease(input.group, input.id),
    });
    this.bus.serve(svc(updaterVerbs.getGroupPolicy), {
      name: 'updater.locks.policy.get',
      schema: getGroupPolicySchema,
      handler: (input) => this.policies.view(input.group),
    });
    this.bus.serve(svc(updaterVerbs.setGroupPolicy), {
      name: 'updater.locks.policy.set',
      schema: groupPolicySchema,
      handler: (input) => this.policies.set(input),
    });
  }
}
