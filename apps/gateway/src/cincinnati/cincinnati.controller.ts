import { Controller, Get, Inject, Query, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { channelSchema } from '#contracts/common';
import { UPDATER, archSchema, graphSchema, updaterVerbs, type UpdateGraph } from '#contracts/updater';
import { Public } from '../auth/roles.js';
import { RateLimit } from '../core/rate-limit.js';
import { ServiceClient } from '../core/service-client.js';
import { jsonSchemaOf } from '../core/zod.js';
import { CompatError, CompatExceptionFilter } from '../fleetlock/compat-errors.js';

/**
 * Cincinnati's graph API as Zincati calls it: `GET /v1/graph?basearch=&stream=` plus
 * `rollout_wariness` and `node_uuid` (and `os_version`, `os_checksum`, `group`, `platform`,
 * which are accepted and ignored). Metadata values are strings, keys as Fedora CoreOS uses them.
 */
@ApiTags('compat')
@Public()
@RateLimit({ bucket: 'cincinnati', capacity: 30, refillPerSecond: 10 })
@UseFilters(CompatExceptionFilter)
@Controller('v1')
export class CincinnatiController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get('graph')
  @ApiOperation({ summary: 'Cincinnati update graph of one stream (channel) and basearch' })
  @ApiQuery({ name: 'basearch', required: true, example: 'x86_64' })
  @ApiQuery({ name: 'stream', required: true, example: 'stable' })
  @ApiQuery({ name: 'rollout_wariness', required: false, example: '0.500000' })
  @ApiQuery({ name: 'node_uuid', required: false, example: 'e0f3745b108f471cbd4883c6fbed8cdd' })
  @ApiResponse({ status: 200, description: 'the graph', schema: jsonSchemaOf(graphSchema, 'output') as never })
  @ApiResponse({ status: 400, description: '`missing_params` or `invalid_params`, as `{kind, value}`' })
  async graph(@Query() query: Record<string, unknown>): Promise<UpdateGraph> {
    const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string).trim() : undefined);
    const missing = ['basearch', 'stream'].filter((name) => !text(name));
    if (missing.length) throw new CompatError(400, 'missing_params', `mandatory client parameters missing: ${missing.join(', ')}`);
    const arch = archSchema.safeParse(text('basearch'));
    if (!arch.success) throw new CompatError(400, 'invalid_params', `basearch: ${arch.error.issues[0]?.message}`);
    const channel = channelSchema.safeParse(text('stream'));
    if (!channel.success) throw new CompatError(400, 'invalid_params', `stream: ${channel.error.issues[0]?.message}`);
    const request: Record<string, unknown> = { channel: channel.data, arch: arch.data };
    const wariness = text('rollout_wariness');
    if (wariness !== undefined && wariness !== '') {
      const value = Number(wariness);
      if (!Number.isFinite(value) || value < 0 || value > 1) {
        throw new CompatError(400, 'invalid_params', 'rollout_wariness: a number from 0.0 to 1.0');
      }
      request.wariness = value;
    }
    const nodeUuid = text('node_uuid');
    if (nodeUuid) {
      if (nodeUuid.length > 128) throw new CompatError(400, 'invalid_params', 'node_uuid: at most 128 characters');
      request.nodeUuid = nodeUuid;
    }
    return graphSchema.parse(await this.services.call(UPDATER, updaterVerbs.graph, request));
  }
}
