import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  UPDATER,
  createReleaseSchema,
  releasePageSchema,
  releaseViewSchema,
  updaterVerbs,
  type ReleaseView,
} from '#contracts/updater';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import { listReleasesQuery, uuidParam, withdrawBody } from './releases.dto.js';

@ApiTags('releases')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/releases')
export class ReleasesController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Publish a release (immutable once published; signed payload, graph metadata)' })
  @ApiZodBody(createReleaseSchema)
  @ApiZodResponse(201, releaseViewSchema, 'the release')
  @ApiZodResponse(409, null, 'a release with this channel, arch and version exists')
  create(@Body(new ZodPipe(createReleaseSchema, 'release')) body: z.output<typeof createReleaseSchema>): Promise<ReleaseView> {
    return this.services.call<ReleaseView>(UPDATER, updaterVerbs.createRelease, body);
  }

  @Get()
  @ApiOperation({ summary: 'List releases, newest version first' })
  @ApiZodQuery(listReleasesQuery)
  @ApiZodResponse(200, releasePageSchema, 'one page of releases')
  list(@Query(new ZodPipe(listReleasesQuery, 'query')) query: z.output<typeof listReleasesQuery>) {
    return this.services.call(UPDATER, updaterVerbs.listReleases, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show one release' })
  @ApiIdParam('id', 'release id (uuid)')
  @ApiZodResponse(200, releaseViewSchema, 'the release')
  @ApiZodResponse(404, null, 'no such release')
  get(@Param('id', new ZodPipe(uuidParam, 'release id')) id: string): Promise<ReleaseView> {
    return this.services.call<ReleaseView>(UPDATER, updaterVerbs.getRelease, { id });
  }

  @Post(':id/withdraw')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a release: no new rollouts, and it leaves the update graph' })
  @ApiIdParam('id', 'release id (uuid)')
  @ApiZodBody(withdrawBody)
  @ApiZodResponse(200, releaseViewSchema, 'the withdrawn release')
  withdraw(
    @Param('id', new ZodPipe(uuidParam, 'release id')) id: string,
    @Body(new ZodPipe(withdrawBody, 'withdrawal')) body: z.output<typeof withdrawBody>,
  ): Promise<ReleaseView> {
    return this.services.call<ReleaseView>(UPDATER, updaterVerbs.withdrawRelease, { id, reason: body.reason });
  }
}
