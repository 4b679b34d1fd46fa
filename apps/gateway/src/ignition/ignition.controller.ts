import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CONFIG, provisioningVerbs } from '#contracts/config';
import { Public } from '../auth/roles.js';
import { RateLimit } from '../core/rate-limit.js';
import { ServiceClient } from '../core/service-client.js';
import { ZodPipe } from '../core/zod.js';

/** `mac`, `uuid`, `hostname`, and any other key=value pairs as labels (first value wins). */
const ignitionQuery = z.record(z.string().max(63), z.union([z.string().max(253), z.array(z.string().max(253))])).transform((q) => {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const { mac, uuid, hostname, ...rest } = q;
  const labels = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, one(v) ?? '']));
  return { mac: one(mac), uuid: one(uuid), hostname: one(hostname), labels };
});

/**
 * First boot (Matchbox-style): a machine's Ignition fetches `GET /ignition?mac=…&uuid=…` with no
 * credentials. The answer is the rendered Ignition 3.4.0 config, or 404 when no group matches.
 */
@ApiTags('provisioning')
@Controller('ignition')
@Public()
@RateLimit({ bucket: 'ignition', capacity: 30, refillPerSecond: 10 })
export class IgnitionController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get()
  @ApiOperation({ summary: 'Rendered Ignition config for the machine described by the query (404 when no group matches)' })
  async render(@Query(new ZodPipe(ignitionQuery, 'query')) q: z.output<typeof ignitionQuery>): Promise<Record<string, unknown>> {
    const out = await this.services.call<{ ignition: Record<string, unknown> }>(CONFIG, provisioningVerbs.render, q);
    return out.ignition;
  }
}
