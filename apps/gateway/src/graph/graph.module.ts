import { Module } from '@nestjs/common';
import { GraphController } from './graph.controller.js';

@Module({ controllers: [GraphController] })
export class GraphModule {}
