import { Module } from '@nestjs/common';
import { IgnitionModule } from '../ignition/ignition.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { ConfigController } from './config.controller.js';

@Module({ controllers: [ConfigController] })
export class ConfigModule {}

/** Config distribution and first boot, mounted with one entry in `areas.ts`. */
@Module({ imports: [ConfigModule, ProvisioningModule, IgnitionModule] })
export class ConfigAreaModule {}
