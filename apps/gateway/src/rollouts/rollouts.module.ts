import { Module } from '@nestjs/common';
import { RolloutsController } from './rollouts.controller.js';

@Module({ controllers: [RolloutsController] })
export class RolloutsModule {}
