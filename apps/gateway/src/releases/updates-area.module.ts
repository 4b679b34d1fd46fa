import { Module } from '@nestjs/common';
import { CincinnatiModule } from '../cincinnati/cincinnati.module.js';
import { FleetLockModule } from '../fleetlock/fleetlock.module.js';
import { GraphModule } from '../graph/graph.module.js';
import { LocksModule } from '../locks/locks.module.js';
import { RolloutsModule } from '../rollouts/rollouts.module.js';
import { ReleasesModule } from './releases.module.js';

/**
 * Everything the gateway serves for OS updates, mounted with one entry in `areas.ts`: the REST
 * API (releases, rollouts, graph, locks) and the compatibility endpoints (FleetLock, Cincinnati).
 */
@Module({ imports: [ReleasesModule, RolloutsModule, GraphModule, LocksModule, FleetLockModule, CincinnatiModule] })
export class UpdatesAreaModule {}
