import { Module } from '@nestjs/common';
import { CincinnatiController } from './cincinnati.controller.js';

@Module({ controllers: [CincinnatiController] })
export class CincinnatiModule {}
