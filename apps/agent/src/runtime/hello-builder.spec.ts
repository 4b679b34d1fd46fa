import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { helloSchema } from '#contracts/inventory';
import type { AgentFeature } from '../feature.js';
import { collectFeatureFacts, composeFacts, helloMessage } from './hello-builder.js';

const host = {
  hostname: 'n1.lab',
  arch: 'aarch64',
  os: { name: 'Debian GNU/Linux', version: '12' },
  kernel: '6.1.0',
  runtimes: [{ name: 'podman' as const, version: '4.3.1' }],
  bootId: 'b-1',
};
const identity = { group: 'edge', channel: 'beta', labels: { zone: 'a' } };

function feature(name: string, facts?: AgentFeature['facts']): { feature: AgentFeature; config: unknown } {
  return {
    feature: { name, configSchema: z.object({}), facts, start: async () => undefined, stop: async () => undefined },
    config: { mine: name },
  };
}

describe('hello builder', () => {
  it('builds a hello the inventory schema accepts, with host facts when no feature knows better', () => {
    const facts = composeFacts('n1', host, identity, {});
    const hello = helloMessage(facts, host, '0.1.0');
    expect(helloSchema.parse(hello)).toMatchObject({
      nodeId: 'n1',
      os: { name: 'Debian GNU/Linux', version: '12' },
      bootedSlot: null,
      group: 'edge',
      runtimes: [{ name: 'podman', version: '4.3.1' }],
    });
  });

  it('lets features override the OS and slot, later features winning, and skips a failing hook', async () => {
    const errors: string[] = [];
    const extra = await collectFeatureFacts(
      [
        feature('a', ({ config }) => ({ bootedSlot: 'a', osVersion: `from-${(config as { mine: string }).mine}` })),
        feature('broken', () => {
          throw new Error('nope');
        }),
        feature('none'),
        feature('b', async () => ({ bootedSlot: 'b', osName: undefined })),
      ],
      { nodeId: 'n1', dataDir: '/d', simulated: false },
      (name) => errors.push(name),
    );
    expect(extra).toEqual({ bootedSlot: 'b', osVersion: 'from-a' });
    expect(errors).toEqual(['broken']);
    expect(composeFacts('n1', host, identity, extra)).toMatchObject({ osName: 'Debian GNU/Linux', osVersion: 'from-a', bootedSlot: 'b' });
  });
});
