import { Module } from '@nestjs/common';
import { registerErrorFormat } from '../core/exception.filter.js';
import { compatErrorFormat } from './compat-errors.js';
import { FleetLockController } from './fleetlock.controller.js';

@Module({ controllers: [FleetLockController] })
export class FleetLockModule {
  constructor() {
    // Errors raised before routing (malformed JSON, oversized bodies) keep the protocol's shape too.
    for (const path of ['/v1/pre-reboot', '/v1/steady-state']) registerErrorFormat(path, compatErrorFormat);
  }
}
