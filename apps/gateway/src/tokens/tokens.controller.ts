import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { Roles } from '../auth/roles.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import type { Principal } from '../core/tokens.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import {
  createTokenBody,
  createdTokenSchema,
  listTokensQuery,
  tokenIdParam,
  tokenListSchema,
  tokenViewSchema,
  type CreateTokenBody,
} from './tokens.dto.js';
import { TokensService } from './tokens.service.js';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiStandardErrors()
@Roles('admin')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(@Inject(TokensService) private readonly tokens: TokensService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API token; the secret is in this response only' })
  @ApiZodBody(createTokenBody)
  @ApiZodResponse(201, createdTokenSchema, 'the new token, with its secret')
  create(@Body(new ZodPipe(createTokenBody, 'token')) body: CreateTokenBody, @CurrentPrincipal() who: Principal) {
    return this.tokens.create(body, who.name);
  }

  @Get()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  @ApiZodQuery(listTokensQuery)
  @ApiZodResponse(200, tokenListSchema, 'tokens, oldest first')
  async list(@Query(new ZodPipe(listTokensQuery, 'query')) q: z.output<typeof listTokensQuery>) {
    return { items: await this.tokens.list(q.includeRevoked) };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API token' })
  @ApiIdParam('id', 'token id (UUID)')
  @ApiZodResponse(200, tokenViewSchema, 'the revoked token')
  revoke(@Param('id', new ZodPipe(tokenIdParam, 'token id')) id: string) {
    return this.tokens.revoke(id);
  }
}
