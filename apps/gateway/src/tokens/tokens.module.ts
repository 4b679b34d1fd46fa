import { Module } from '@nestjs/common';
import { TokensController } from './tokens.controller.js';

/** `/api/v1/tokens`. `TokensService` itself lives in the core module: the auth guard needs it everywhere. */
@Module({ controllers: [TokensController] })
export class TokensModule {}
