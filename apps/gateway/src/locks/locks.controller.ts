import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { groupSchema } from '#contracts/common';
import {
  UPDATER,
  forceReleaseReplySchema,
  groupPolicyViewSchema,
  listLocksReplySchema,
  lockHolderIdSchema,
  maintenanceWindowSchema,
  updaterVerbs,
} from '#contracts/updater';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';

const listQuery = z.object({ group: groupSchema.optional().describe('only this group') });
const forceReleaseBody = z.preprocess(
  (v) => v ?? {},
  z.strictObject({ id: lockHolderIdSchema.optional().describe('holder to free; omitted: every holder of the group') }),
);
const policyBody = z.strictObject({
  slots: z.number().int().min(1).max(100_000).describe('machines of the group that may reboot at once'),
  windows: z.array(maintenanceWindowSchema).max(32).default([]).describe('maintenance windows; empty: always open'),
});

/** Holders of the per-group reboot slots (agents and FleetLock clients share them). */
@ApiTags('locks')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/locks')
export class LocksController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get()
  @ApiOperation({ summary: 'Reboot slots per group: capacity, window state and current holders' })
  @ApiZodQuery(listQuery)
  @ApiZodResponse(200, listLocksReplySchema, 'groups with their holders')
  list(@Query(new ZodPipe(listQuery, 'query')) query: z.output<typeof listQuery>) {
    return this.services.call(UPDATER, updaterVerbs.listLocks, query);
  }

  @Post(':group/release')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: "Force-release a holder's slot (or all of the group's): for machines that will not come back" })
  @ApiParam({ name: 'group', schema: { type: 'string' } })
  @ApiZodBody(forceReleaseBody)
  @ApiZodResponse(200, forceReleaseReplySchema, 'the holders that were released')
  forceRelease(
    @Param('group', new ZodPipe(groupSchema, 'group')) group: string,
    @Body(new ZodPipe(forceReleaseBody, 'release')) body: z.output<typeof forceReleaseBody>,
  ) {
    return this.services.call(UPDATER, updaterVerbs.forceReleaseLock, body.id ? { group, id: body.id } : { group });
  }

  @Get(':group/policy')
  @ApiOperation({ summary: "A group's standing reboot policy (slots, windows), used when no running rollout names the group" })
  @ApiParam({ name: 'group', schema: { type: 'string' } })
  @ApiZodResponse(200, groupPolicyViewSchema, 'the policy')
  policy(@Param('group', new ZodPipe(groupSchema, 'group')) group: string) {
    return this.services.call(UPDATER, updaterVerbs.getGroupPolicy, { group });
  }

  @Put(':group/policy')
  @Roles('admin')
  @ApiOperation({ summary: "Set a group's standing reboot policy" })
  @ApiParam({ name: 'group', schema: { type: 'string' } })
  @ApiZodBody(policyBody)
  @ApiZodResponse(200, groupPolicyViewSchema, 'the policy')
  setPolicy(
    @Param('group', new ZodPipe(groupSchema, 'group')) group: string,
    @Body(new ZodPipe(policyBody, 'policy')) body: z.output<typeof policyBody>,
  ) {
    return this.services.call(UPDATER, updaterVerbs.setGroupPolicy, { group, ...body });
  }
}
