import { Module } from '@nestjs/common';
import { DeadEndFlags } from './dead-end-flags.js';
import { NodesController } from './nodes.controller.js';

@Module({ controllers: [NodesController], providers: [DeadEndFlags] })
export class NodesModule {}
