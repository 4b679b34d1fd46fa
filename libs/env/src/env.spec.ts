import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvError, baseEnvSchema, booleanFlag, parseEnv, port } from './index.js';

describe('parseEnv', () => {
  it('applies defaults that run locally', () => {
    const env = parseEnv(baseEnvSchema, {});
    expect(env).toMatchObject({
      NATS_URL: 'nats://127.0.0.1:4222',
      FLEET_SUBJECT_ROOT: 'fleet',
      LOG_LEVEL: 'info',
      METRICS_PORT: 0,
      FLEET_SELF_REGISTER: true,
    });
    expect(env.NATS_CREDENTIALS).toBeUndefined();
  });

  it('lists every bad variable in one error, with the value it saw', () => {
    const schema = baseEnvSchema.extend({ PORT: port(8080), VERBOSE: booleanFlag(false) });
    let caught: unknown;
    try {
      parseEnv(schema, { LOG_LEVEL: 'loud', PORT: '70000', FLEET_SUBJECT_ROOT: 'a..b', VERBOSE: 'maybe' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EnvError);
    const problems = (caught as EnvError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL \("loud"\)/);
    expect(problems.join('\n')).toMatch(/PORT \("70000"\)/);
    expect(problems.join('\n')).toMatch(/FLEET_SUBJECT_ROOT \("a\.\.b"\)/);
    expect(problems.join('\n')).toMatch(/VERBOSE \("maybe"\)/);
    expect((caught as Error).message).toMatch(/^invalid environment:\n  - /);
  });

  it('treats an empty string as unset', () => {
    const schema = z.object({ OTEL_EXPORTER_OTLP_ENDPOINT: baseEnvSchema.shape.OTEL_EXPORTER_OTLP_ENDPOINT });
    expect(parseEnv(schema, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('reads METRICS_TOKEN as every service does: unset or empty is none, else 16-512 characters without whitespace', () => {
    expect(parseEnv(baseEnvSchema, {}).METRICS_TOKEN).toBeUndefined();
    expect(parseEnv(baseEnvSchema, { METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    expect(parseEnv(baseEnvSchema, { METRICS_TOKEN: 'scrape-0123456789abcdef' }).METRICS_TOKEN).toBe('scrape-0123456789abcdef');
    expect(() => parseEnv(baseEnvSchema, { METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN \("short"\): at least 16 characters/);
    expect(() => parseEnv(baseEnvSchema, { METRICS_TOKEN: 'x'.repeat(513) })).toThrow(/METRICS_TOKEN .*at most 512 characters/);
    expect(() => parseEnv(baseEnvSchema, { METRICS_TOKEN: 'has a space in the middle' })).toThrow(/METRICS_TOKEN .*no whitespace/);
  });
});
