import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus } from '#lib/messaging';
import { AgentHandlers } from './agents/agent.handlers.js';
import { DesiredService } from './agents/desired.service.js';
import { ReportsService } from './agents/reports.service.js';
import { SlotRequests } from './agents/slot-requests.js';
import { UpdaterEvents } from './common/updater-events.js';
import { UPDATER_BUS, UPDATER_DB, UPDATER_ENV } from './common/tokens.js';
import { ControllerRunner } from './controller/controller.runner.js';
import { ControllerSignal } from './controller/controller-signal.js';
import { InventoryEvents } from './controller/inventory-events.js';
import { Membership } from './controller/membership.js';
import { RolloutController } from './controller/rollout-controller.js';
import type { UpdaterEnv } from './env.js';
import { GroupPolicyService } from './locks/group-policy.service.js';
import { LocksHandlers } from './locks/locks.handlers.js';
import { SemaphoreService } from './locks/semaphore.service.js';
import { ReleasesHandlers } from './releases/releases.handlers.js';
import { ReleasesService } from './releases/releases.service.js';
import { RolloutActions } from './rollouts/rollout-actions.js';
import { RolloutsHandlers } from './rollouts/rollouts.handlers.js';
import { RolloutsService } from './rollouts/rollouts.service.js';

@Module({})
export class UpdaterModule {
  static forRoot(deps: { env: UpdaterEnv; db: DataSource; bus: MessageBus }): DynamicModule {
    return {
      module: UpdaterModule,
      providers: [
        { provide: UPDATER_ENV, useValue: deps.env },
        { provide: UPDATER_DB, useValue: deps.db },
        { provide: UPDATER_BUS, useValue: deps.bus },
        UpdaterEvents,
        ControllerSignal,
        ReleasesService,
        ReleasesHandlers,
        GroupPolicyService,
        SemaphoreService,
        LocksHandlers,
        DesiredService,
        ReportsService,
        SlotRequests,
        AgentHandlers,
        RolloutActions,
        RolloutsService,
        RolloutsHandlers,
        Membership,
        InventoryEvents,
        RolloutController,
        ControllerRunner,
      ],
      exports: [ControllerRunner, UpdaterEvents],
    };
  }
}
