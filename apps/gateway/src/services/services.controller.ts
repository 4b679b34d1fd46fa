import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { z } from 'zod';
import {
  DISCOVERY,
  discoveryVerbs,
  instanceReplySchema,
  instancesReplySchema,
  listServicesReplySchema,
  registerInstanceSchema,
  type InstanceReply,
  type InstancesReply,
  type ListServicesReply,
} from '#contracts/discovery';
import { FleetError } from '#contracts/common';
import { MessageBus } from '#lib/messaging';
import { Roles } from '../auth/roles.js';
import { GATEWAY_ENV } from '../core/tokens.js';
import type { GatewayEnv } from '../env.js';
import { relayRead } from './raw-reply.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import {
  TTL_VERB_STATE,
  blockingTimeoutMs,
  instanceIdParam,
  instancesQuery,
  listServicesQuery,
  queryAllQuery,
  serviceNameParam,
  toInstancesQuery,
  toListQuery,
  toQueryAll,
  ttlBody,
  ttlVerbParam,
} from './services.dto.js';

const INDEX_HEADER = 'x-fleet-index';

/**
 * Service discovery over HTTP, in the manner of Consul's catalog and health endpoints: every
 * read answers with its index in `X-Fleet-Index`; `?index=N&wait=30s` makes it a blocking query.
 */
@ApiTags('services')
@ApiBearerAuth()
@ApiStandardErrors()
@ApiHeader({ name: INDEX_HEADER, required: false, description: 'answers carry the catalog index here' })
@Controller('api/v1/services')
export class ServicesController {
  constructor(
    @Inject(ServiceClient) private readonly services: ServiceClient,
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  private call<T>(verb: string, body: unknown, timeoutMs?: number): Promise<T> {
    return this.services.call<T>(DISCOVERY, verb, body, { timeoutMs });
  }

  /** Reads that may be large or blocking: the service's reply bytes go out as they came. */
  private relay(verb: string, body: unknown, timeoutMs: number | undefined, res: Response): Promise<void> {
    return relayRead(this.bus, this.bus.subjects.svc(DISCOVERY, verb), body, timeoutMs ?? this.env.SERVICE_TIMEOUT_MS, res, INDEX_HEADER);
  }

  @Get()
  @ApiOperation({ summary: 'List services with instance counts by state (blocking with ?index&wait)' })
  @ApiZodQuery(listServicesQuery)
  @ApiZodResponse(200, listServicesReplySchema, 'services and the catalog index')
  async list(
    @Query(new ZodPipe(listServicesQuery, 'query')) q: z.output<typeof listServicesQuery>,
    @Res() res: Response,
  ): Promise<void> {
    await this.relay(discoveryVerbs.list, toListQuery(q), blockingTimeoutMs(q.index, q.wait), res);
  }

  @Get('_instances')
  @ApiOperation({ summary: 'Instances across services, filtered (by node, tag, state...)' })
  @ApiZodQuery(queryAllQuery)
  @ApiZodResponse(200, instancesReplySchema, 'matching instances')
  async queryAll(
    @Query(new ZodPipe(queryAllQuery, 'query')) q: z.output<typeof queryAllQuery>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<InstancesReply> {
    const reply = await this.call<InstancesReply>(discoveryVerbs.query, toQueryAll(q));
    res.setHeader(INDEX_HEADER, String(reply.index));
    return reply;
  }

  @Get(':name')
  @ApiOperation({ summary: "A service's instances, filtered (blocking with ?index&wait)" })
  @ApiIdParam('name', 'service name')
  @ApiZodQuery(instancesQuery)
  @ApiZodResponse(200, instancesReplySchema, 'instances and the service index')
  async instances(
    @Param('name', new ZodPipe(serviceNameParam, 'service name')) name: string,
    @Query(new ZodPipe(instancesQuery, 'query')) q: z.output<typeof instancesQuery>,
    @Res() res: Response,
  ): Promise<void> {
    await this.relay(discoveryVerbs.instances, toInstancesQuery(name, q), blockingTimeoutMs(q.index, q.wait), res);
  }

  @Get(':name/instances/:id')
  @ApiOperation({ summary: 'One instance with its checks' })
  @ApiIdParam('name', 'service name')
  @ApiIdParam('id', 'instance id')
  @ApiZodResponse(200, instanceReplySchema, 'the instance')
  async get(
    @Param('name', new ZodPipe(serviceNameParam, 'service name')) name: string,
    @Param('id', new ZodPipe(instanceIdParam, 'instance id')) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<InstanceReply> {
    const reply = await this.call<InstanceReply>(discoveryVerbs.get, { id });
    if (reply.instance.service !== name) throw new FleetError('not_found', `service ${name} has no instance "${id}"`);
    res.setHeader(INDEX_HEADER, String(reply.index));
    return reply;
  }

  @Post()
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Register an instance no agent manages (idempotent by id; TTL checks only)' })
  @ApiZodBody(registerInstanceSchema)
  @ApiZodResponse(200, instanceReplySchema, 'the instance as registered')
  async register(
    @Body(new ZodPipe(registerInstanceSchema, 'instance')) body: z.output<typeof registerInstanceSchema>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<InstanceReply> {
    const reply = await this.call<InstanceReply>(discoveryVerbs.register, body);
    res.setHeader(INDEX_HEADER, String(reply.index));
    return reply;
  }

  @Delete(':name/instances/:id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ summary: 'Deregister an instance (an agent registers its own again unless its definition is removed)' })
  @ApiIdParam('name', 'service name')
  @ApiIdParam('id', 'instance id')
  @ApiZodResponse(204, null, 'deregistered')
  async deregister(
    @Param('name', new ZodPipe(serviceNameParam, 'service name')) name: string,
    @Param('id', new ZodPipe(instanceIdParam, 'instance id')) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const current = await this.call<InstanceReply>(discoveryVerbs.get, { id });
    if (current.instance.service !== name) throw new FleetError('not_found', `service ${name} has no instance "${id}"`);
    const reply = await this.call<{ index: number }>(discoveryVerbs.deregister, { id });
    res.setHeader(INDEX_HEADER, String(reply.index));
  }

  @Put(':name/instances/:id/checks/:check/:verb')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report a TTL check of an API-registered instance: verb pass | warn | fail' })
  @ApiIdParam('name', 'service name')
  @ApiIdParam('id', 'instance id')
  @ApiIdParam('check', 'check id')
  @ApiIdParam('verb', 'pass, warn or fail')
  async ttl(
    @Param('id', new ZodPipe(instanceIdParam, 'instance id')) id: string,
    @Param('check') check: string,
    @Param('verb', new ZodPipe(ttlVerbParam, 'verb')) verb: 'pass' | 'warn' | 'fail',
    @Body(new ZodPipe(ttlBody, 'body')) body: z.output<typeof ttlBody>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ index: number; health?: string }> {
    const reply = await this.call<{ index: number; health?: string }>(discoveryVerbs.ttl, {
      instanceId: id,
      checkId: check,
      status: TTL_VERB_STATE[verb],
      output: body.output,
    });
    res.setHeader(INDEX_HEADER, String(reply.index));
    return reply;
  }
}
