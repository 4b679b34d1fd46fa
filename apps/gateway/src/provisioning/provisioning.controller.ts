import { Body, Controller, Delete, Get, Inject, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CONFIG, groupPutSchema, profilePutSchema, provisioningVerbs as p } from '#contracts/config';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ZodPipe } from '../core/zod.js';

const nameParam = z.string().regex(/^[a-z0-9]([a-z0-9_.-]{0,62})$/, 'name');
const profileBody = profilePutSchema.omit({ name: true });
const groupBody = groupPutSchema.omit({ name: true });

/**
 * Ignition profiles and machine groups. Profiles usually carry a bootstrap credential, so reading
 * them needs `operator` and changing them `admin`.
 */
@ApiTags('provisioning')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/provisioning')
export class ProvisioningController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get('profiles')
  @Roles('operator')
  @ApiOperation({ summary: 'Ignition profiles' })
  profiles() {
    return this.services.call(CONFIG, p.profileList, {});
  }

  @Get('profiles/:name')
  @Roles('operator')
  @ApiIdParam('name', 'profile name')
  profile(@Param('name', new ZodPipe(nameParam, 'name')) name: string) {
    return this.services.call(CONFIG, p.profileGet, { name });
  }

  @Put('profiles/:name')
  @Roles('admin')
  @ApiOperation({ summary: 'Create or replace a profile; its Ignition config is validated against spec 3.4.0' })
  @ApiIdParam('name', 'profile name')
  @ApiZodBody(profileBody)
  putProfile(@Param('name', new ZodPipe(nameParam, 'name')) name: string, @Body(new ZodPipe(profileBody, 'profile')) body: z.output<typeof profileBody>) {
    return this.services.call(CONFIG, p.profilePut, { ...body, name });
  }

  @Delete('profiles/:name')
  @Roles('admin')
  @ApiIdParam('name', 'profile name')
  deleteProfile(@Param('name', new ZodPipe(nameParam, 'name')) name: string) {
    return this.services.call(CONFIG, p.profileDelete, { name });
  }

  @Get('groups')
  @Roles('operator')
  @ApiOperation({ summary: 'Machine groups (selector → profile + metadata)' })
  groups() {
    return this.services.call(CONFIG, p.groupList, {});
  }

  @Get('groups/:name')
  @Roles('operator')
  @ApiIdParam('name', 'group name')
  group(@Param('name', new ZodPipe(nameParam, 'name')) name: string) {
    return this.services.call(CONFIG, p.groupGet, { name });
  }

  @Put('groups/:name')
  @Roles('admin')
  @ApiOperation({ summary: 'Create or replace a group; a group without selector is the default' })
  @ApiIdParam('name', 'group name')
  @ApiZodBody(groupBody)
  putGroup(@Param('name', new ZodPipe(nameParam, 'name')) name: string, @Body(new ZodPipe(groupBody, 'group')) body: z.output<typeof groupBody>) {
    return this.services.call(CONFIG, p.groupPut, { ...body, name });
  }

  @Delete('groups/:name')
  @Roles('admin')
  @ApiIdParam('name', 'group name')
  deleteGroup(@Param('name', new ZodPipe(nameParam, 'name')) name: string) {
    return this.services.call(CONFIG, p.groupDelete, { name });
  }
}
