import { describe, expect, it } from 'vitest';
import { checkDefinitionSchema, checkToInput, durationSchema, resolveCheckIds } from './checks.js';
import { serviceDefinitionSchema } from './instances.js';
import { agentRegisterSchema } from './agent-messages.js';

describe('check definitions', () => {
  it('parses durations in ms, s, m, h and plain seconds', () => {
    expect(['500ms', '10s', '1.5s', '5m', '1h', 2].map((d) => durationSchema.parse(d))).toEqual([
      500, 10_000, 1500, 300_000, 3_600_000, 2000,
    ]);
    expect(durationSchema.safeParse('10 parsecs').success).toBe(false);
    expect(durationSchema.safeParse(-1).success).toBe(false);
  });

  it('fills defaults and rejects unknown keys and bad targets', () => {
    const http = checkDefinitionSchema.parse({ type: 'http', url: 'http://127.0.0.1:8080/health' });
    expect(http).toMatchObject({ interval: 10_000, timeout: 5000, successBeforePassing: 1, failuresBeforeCritical: 1, method: 'GET' });
    expect(checkDefinitionSchema.safeParse({ type: 'http', url: 'ftp://x' }).success).toBe(false);
    expect(checkDefinitionSchema.safeParse({ type: 'tcp', tcp: 'no-port' }).success).toBe(false);
    expect(checkDefinitionSchema.safeParse({ type: 'ttl', ttl: '10s', intervall: '1s' }).success).toBe(false);
    expect(checkDefinitionSchema.safeParse({ type: 'script', args: ['x'] }).success).toBe(false);
    expect(checkDefinitionSchema.parse({ type: 'tcp', tcp: '[::1]:22', deregisterCriticalAfter: '1m' })).toMatchObject({
      deregisterCriticalAfter: 60_000,
    });
  });

  it('gives checks without an id a positional one and rejects duplicates', () => {
    const def = serviceDefinitionSchema.parse({
      name: 'web',
      port: 80,
      checks: [{ type: 'ttl', ttl: '10s' }, { type: 'tcp', tcp: 'localhost:80', id: 'conn' }],
    });
    expect(resolveCheckIds(def.checks).map((c) => c.id)).toEqual(['ttl-1', 'conn']);
    const dup = serviceDefinitionSchema.safeParse({
      name: 'web',
      port: 80,
      checks: [{ type: 'ttl', ttl: '10s', id: 'x' }, { type: 'ttl', ttl: '10s', id: 'x' }],
    });
    expect(dup.success).toBe(false);
  });

  it('rejects service names that are not DNS labels', () => {
    for (const name of ['Web', 'web_api', '-web', 'a'.repeat(64), 'web.api']) {
      expect(serviceDefinitionSchema.safeParse({ name, port: 80 }).success, name).toBe(false);
    }
  });

  it('requires an address on every service an agent registers', () => {
    expect(agentRegisterSchema.safeParse({ v: 1, services: [{ name: 'web', port: 80 }] }).success).toBe(false);
    expect(agentRegisterSchema.safeParse({ v: 1, services: [{ name: 'web', port: 80, address: '10.0.0.1' }] }).success).toBe(true);
  });
});

describe('checkToInput', () => {
  it('round-trips a parsed check through the wire format', () => {
    const parsed = checkDefinitionSchema.parse({ type: 'http', url: 'http://x/', interval: '200ms', timeout: 2, deregisterCriticalAfter: '1m' });
    expect(checkDefinitionSchema.parse(checkToInput(parsed))).toEqual(parsed);
  });
});
