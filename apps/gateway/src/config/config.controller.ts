import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { CONFIG, configVerbs as v, fleetStatusSchema, nodeConfigStatusSchema } from '#contracts/config';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import type { Principal } from '../core/tokens.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import {
  diffQuery,
  draftRemoveBody,
  draftSetBody,
  driftQuery,
  itemsQuery,
  nodeParam,
  publishBody,
  revisionParam,
  revisionsQuery,
  rollbackBody,
  schemaBody,
  schemaDeleteQuery,
} from './config.dto.js';

const author = (p: Principal | undefined) => p?.name ?? 'anonymous';

@ApiTags('config')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/config')
export class ConfigController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  private call<T = unknown>(verb: string, body: unknown): Promise<T> {
    return this.services.call<T>(CONFIG, verb, body);
  }

  @Get('items')
  @ApiOperation({ summary: 'Items of a revision (the latest by default)' })
  @ApiZodQuery(itemsQuery)
  items(@Query(new ZodPipe(itemsQuery, 'query')) q: z.output<typeof itemsQuery>) {
    return this.call(v.itemsList, q);
  }

  @Get('drafts')
  @ApiOperation({ summary: 'Staged changes, published together by the next publish' })
  drafts() {
    return this.call(v.draftList, {});
  }

  @Put('drafts')
  @Roles('operator')
  @ApiOperation({ summary: 'Stage a file at a scope (global, group, selector, node)' })
  @ApiZodBody(draftSetBody)
  setDraft(@Body(new ZodPipe(draftSetBody, 'draft')) body: z.output<typeof draftSetBody>, @CurrentPrincipal() p?: Principal) {
    return this.call(v.draftSet, { ...body, author: author(p) });
  }

  @Post('drafts/removals')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stage the removal of a file at a scope' })
  @ApiZodBody(draftRemoveBody)
  removeDraft(@Body(new ZodPipe(draftRemoveBody, 'removal')) body: z.output<typeof draftRemoveBody>, @CurrentPrincipal() p?: Principal) {
    return this.call(v.draftRemove, { ...body, author: author(p) });
  }

  @Delete('drafts')
  @Roles('operator')
  @ApiOperation({ summary: 'Discard every staged change' })
  discard() {
    return this.call(v.draftDiscard, {});
  }

  @Post('drafts/validate')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Dry run: what publishing the draft now would report' })
  validate() {
    return this.call(v.validate, {});
  }

  @Post('publish')
  @Roles('operator')
  @ApiOperation({ summary: 'Publish the draft as a new immutable revision (optionally compare-and-set, optionally as a canary)' })
  @ApiZodBody(publishBody)
  @ApiZodResponse(409, null, '`revision_conflict` (expectedRevision is stale) or `conflict` (a canary is in progress)')
  publish(@Body(new ZodPipe(publishBody, 'publish')) body: z.output<typeof publishBody>, @CurrentPrincipal() p?: Principal) {
    return this.call(v.publish, { ...body, author: author(p) });
  }

  @Post('rollback')
  @Roles('operator')
  @ApiOperation({ summary: "Publish an earlier revision's content as a new revision" })
  @ApiZodBody(rollbackBody)
  rollback(@Body(new ZodPipe(rollbackBody, 'rollback')) body: z.output<typeof rollbackBody>, @CurrentPrincipal() p?: Principal) {
    return this.call(v.rollback, { ...body, author: author(p) });
  }

  @Get('revisions')
  @ApiOperation({ summary: 'History, newest first' })
  @ApiZodQuery(revisionsQuery)
  revisions(@Query(new ZodPipe(revisionsQuery, 'query')) q: z.output<typeof revisionsQuery>) {
    return this.call(v.revisions, q);
  }

  @Get('revisions/:revision')
  @ApiOperation({ summary: 'One revision with its items' })
  @ApiIdParam('revision', 'revision number')
  revision(@Param('revision', new ZodPipe(revisionParam, 'revision')) revision: number) {
    return this.call(v.revision, { revision });
  }

  @Get('diff')
  @ApiOperation({ summary: 'Changes between two revisions (0 = the empty set)' })
  @ApiZodQuery(diffQuery)
  diff(@Query(new ZodPipe(diffQuery, 'query')) q: z.output<typeof diffQuery>) {
    return this.call(v.diff, q);
  }

  @Get('status')
  @ApiOperation({ summary: 'Fleet view: nodes per applied and desired revision, in sync, drifted, failed, canary' })
  @ApiZodResponse(200, fleetStatusSchema, 'fleet status')
  status() {
    return this.call(v.status, {});
  }

  @Get('status/:nodeId')
  @ApiOperation({ summary: "One node's desired and applied revision and hash, last result, drift" })
  @ApiIdParam('nodeId', 'node id')
  @ApiZodResponse(200, nodeConfigStatusSchema, 'node status')
  nodeStatus(@Param('nodeId', new ZodPipe(nodeParam, 'node id')) nodeId: string) {
    return this.call(v.nodeStatus, { nodeId });
  }

  @Get('nodes/:nodeId/effective')
  @ApiOperation({ summary: "The node's effective bundle (what its agent fetches)" })
  @ApiIdParam('nodeId', 'node id')
  effective(@Param('nodeId', new ZodPipe(nodeParam, 'node id')) nodeId: string) {
    return this.call(v.effective, { nodeId });
  }

  @Get('drift')
  @ApiOperation({ summary: 'Nodes whose managed files were changed by hand' })
  @ApiZodQuery(driftQuery)
  drift(@Query(new ZodPipe(driftQuery, 'query')) q: z.output<typeof driftQuery>) {
    return this.call(v.drift, q);
  }

  @Get('schemas')
  @ApiOperation({ summary: 'JSON Schemas per path pattern' })
  schemas() {
    return this.call(v.schemaList, {});
  }

  @Put('schemas')
  @Roles('operator')
  @ApiOperation({ summary: 'Register a JSON Schema (supported subset) for files matching a glob' })
  @ApiZodBody(schemaBody)
  putSchema(@Body(new ZodPipe(schemaBody, 'schema')) body: z.output<typeof schemaBody>) {
    return this.call(v.schemaPut, body);
  }

  @Delete('schemas')
  @Roles('operator')
  @ApiOperation({ summary: 'Remove the schema registered for a pattern' })
  @ApiZodQuery(schemaDeleteQuery)
  deleteSchema(@Query(new ZodPipe(schemaDeleteQuery, 'query')) q: z.output<typeof schemaDeleteQuery>) {
    return this.call(v.schemaDelete, q);
  }

  @Post('canary/promote')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Roll the canary revision out to every node' })
  promote(@CurrentPrincipal() p?: Principal) {
    return this.call(v.canaryPromote, { author: author(p) });
  }

  @Post('canary/abort')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'End the canary; canary nodes return to the previous revision' })
  abort(@CurrentPrincipal() p?: Principal) {
    return this.call(v.canaryAbort, { author: author(p) });
  }
}
