import { Module } from '@nestjs/common';
import { ProvisioningController } from './provisioning.controller.js';

@Module({ controllers: [ProvisioningController] })
export class ProvisioningModule {}
