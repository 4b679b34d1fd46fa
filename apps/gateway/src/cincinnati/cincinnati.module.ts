import { Module } from '@nestjs/common';
import { registerErrorFormat } from '../core/exception.filter.js';
import { compatErrorFormat } from '../fleetlock/compat-errors.js';
import { CincinnatiController } from './cincinnati.controller.js';

@Module({ controllers: [CincinnatiController] })
export class CincinnatiModule {
  constructor() {
    // Errors raised before routing (malformed JSON, oversized bodies) keep the protocol's shape too.
    for (const path of ['/v1/graph']) registerErrorFormat(path, compatErrorFormat);
  }
}
