import { Module } from '@nestjs/common';
import { FleetLockController } from './fleetlock.controller.js';

@Module({ controllers: [FleetLockController] })
export class FleetLockModule {}
