import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';

/** `/api/v1/audit`. The writer lives in the core module, since every request passes through it. */
@Module({ controllers: [AuditController] })
export class AuditModule {}
