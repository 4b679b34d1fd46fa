import { describe, expect, it } from 'vitest';
import { parseGatewayEnv } from './env.js';

describe('gateway environment: METRICS_TOKEN', () => {
  it('is optional: unset or empty leaves /metrics public', () => {
    expect(parseGatewayEnv({}).METRICS_TOKEN).toBeUndefined();
    expect(parseGatewayEnv({ METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
  });

  it('takes a bearer-token-shaped secret', () => {
    expect(parseGatewayEnv({ METRICS_TOKEN: 'scrape-0123456789abcdef' }).METRICS_TOKEN).toBe('scrape-0123456789abcdef');
  });

  it('refuses a short token or one with whitespace, naming the variable', () => {
    expect(() => parseGatewayEnv({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN \("short"\): at least 16 characters/);
    expect(() => parseGatewayEnv({ METRICS_TOKEN: 'has a space in the middle' })).toThrow(/METRICS_TOKEN .*no whitespace/);
  });
});
