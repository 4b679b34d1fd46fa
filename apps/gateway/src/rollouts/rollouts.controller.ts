import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import {
  UPDATER,
  createRolloutSchema,
  rolloutNodePageSchema,
  rolloutPageSchema,
  rolloutViewSchema,
  updaterVerbs,
  type RolloutView,
} from '#contracts/updater';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import { uuidParam } from '../releases/releases.dto.js';
import { actionBody, listRolloutsQuery, rolloutNodesQuery } from './rollouts.dto.js';

const ACTIONS = {
  pause: { verb: updaterVerbs.pauseRollout, summary: 'Pause: no new node starts; nodes mid-update finish' },
  resume: { verb: updaterVerbs.resumeRollout, summary: 'Resume a paused rollout (also one paused by its failure threshold)' },
  abort: { verb: updaterVerbs.abortRollout, summary: 'Abort: nodes not yet rebooted drop the update; updated nodes stay' },
  rollback: { verb: updaterVerbs.rollbackRollout, summary: 'Roll back: updated nodes return to the previous release in their other slot' },
} as const;

@ApiTags('rollouts')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/rollouts')
export class RolloutsController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Post()
  @Roles('operator')
  @ApiOperation({ summary: 'Start a rollout of a release to a target (channel, selector, groups) in waves or a linear ramp' })
  @ApiZodBody(createRolloutSchema)
  @ApiZodResponse(201, rolloutViewSchema, 'the rollout')
  create(@Body(new ZodPipe(createRolloutSchema, 'rollout')) body: z.output<typeof createRolloutSchema>): Promise<RolloutView> {
    return this.services.call<RolloutView>(UPDATER, updaterVerbs.createRollout, body);
  }

  @Get()
  @ApiOperation({ summary: 'List rollouts, newest first' })
  @ApiZodQuery(listRolloutsQuery)
  @ApiZodResponse(200, rolloutPageSchema, 'one page of rollouts')
  list(@Query(new ZodPipe(listRolloutsQuery, 'query')) query: z.output<typeof listRolloutsQuery>) {
    return this.services.call(UPDATER, updaterVerbs.listRollouts, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show a rollout: state, waves, counts by node state' })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodResponse(200, rolloutViewSchema, 'the rollout')
  @ApiZodResponse(404, null, 'no such rollout')
  get(@Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string): Promise<RolloutView> {
    return this.services.call<RolloutView>(UPDATER, updaterVerbs.getRollout, { id });
  }

  @Get(':id/nodes')
  @ApiOperation({ summary: "The rollout's nodes and their update states, filtered and paged (by node id)" })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodQuery(rolloutNodesQuery)
  @ApiZodResponse(200, rolloutNodePageSchema, 'one page of nodes')
  nodes(
    @Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string,
    @Query(new ZodPipe(rolloutNodesQuery, 'query')) query: z.output<typeof rolloutNodesQuery>,
  ) {
    return this.services.call(UPDATER, updaterVerbs.rolloutNodes, { ...query, id });
  }

  @Post(':id/pause')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: ACTIONS.pause.summary })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodBody(actionBody)
  @ApiZodResponse(200, rolloutViewSchema, 'the rollout after the action')
  @ApiZodResponse(409, null, 'not possible in the current state')
  pause(@Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string, @Body(new ZodPipe(actionBody, 'action')) body: z.output<typeof actionBody>) {
    return this.act('pause', id, body.reason);
  }

  @Post(':id/resume')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: ACTIONS.resume.summary })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodBody(actionBody)
  @ApiZodResponse(200, rolloutViewSchema, 'the rollout after the action')
  @ApiZodResponse(409, null, 'not possible in the current state')
  resume(@Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string, @Body(new ZodPipe(actionBody, 'action')) body: z.output<typeof actionBody>) {
    return this.act('resume', id, body.reason);
  }

  @Post(':id/abort')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: ACTIONS.abort.summary })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodBody(actionBody)
  @ApiZodResponse(200, rolloutViewSchema, 'the rollout after the action')
  @ApiZodResponse(409, null, 'not possible in the current state')
  abort(@Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string, @Body(new ZodPipe(actionBody, 'action')) body: z.output<typeof actionBody>) {
    return this.act('abort', id, body.reason);
  }

  @Post(':id/rollback')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: ACTIONS.rollback.summary })
  @ApiIdParam('id', 'rollout id (uuid)')
  @ApiZodBody(actionBody)
  @ApiZodResponse(200, rolloutViewSchema, 'the rollout after the action')
  @ApiZodResponse(409, null, 'not possible in the current state')
  rollback(@Param('id', new ZodPipe(uuidParam, 'rollout id')) id: string, @Body(new ZodPipe(actionBody, 'action')) body: z.output<typeof actionBody>) {
    return this.act('rollback', id, body.reason);
  }

  private act(action: keyof typeof ACTIONS, id: string, reason: string | undefined): Promise<RolloutView> {
    return this.services.call<RolloutView>(UPDATER, ACTIONS[action].verb, reason === undefined ? { id } : { id, reason });
  }
}
