import { Module } from '@nestjs/common';
import { ServicesController } from './services.controller.js';

/** `/api/v1/services`: the discovery catalog over HTTP. */
@Module({ controllers: [ServicesController] })
export class ServicesModule {}
