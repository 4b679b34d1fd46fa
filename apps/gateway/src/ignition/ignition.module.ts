import { Module } from '@nestjs/common';
import { IgnitionController } from './ignition.controller.js';

@Module({ controllers: [IgnitionController] })
export class IgnitionModule {}
