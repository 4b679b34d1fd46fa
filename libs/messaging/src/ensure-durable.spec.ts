import { describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerConfig } from '@nats-io/jetstream';
import { ensureDurable } from './ensure-durable.js';

const wanted = {
  durable_name: 'fleet-updater-update-reports',
  filter_subject: 'fleet.agent.*.report.update',
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: 5_000 * 1e6,
  max_deliver: 20,
  max_ack_pending: 2000,
};

/** A consumer API that records calls; `existing` is the durable's current config, if any. */
function fakeConsumers(existing: Partial<ConsumerConfig> | null, addFails?: string) {
  const calls: Array<[string, ...unknown[]]> = [];
  let current = existing;
  return {
    calls,
    api: {
      async info(stream: string, name: string) {
        calls.push(['info', stream, name]);
        if (!current) throw new JetStreamApiError({ code: 404, err_code: 10014, description: 'consumer not found' });
        return { config: current } as never;
      },
      async add(stream: string, cfg: Partial<ConsumerConfig>) {
        calls.push(['add', stream, cfg]);
        if (addFails) {
          current = { ...wanted, ack_wait: 30_000 * 1e6 };
          throw new Error(addFails);
        }
        current = cfg;
        return {} as never;
      },
      async update(stream: string, name: string, cfg: Partial<ConsumerConfig>) {
        calls.push(['update', stream, name, cfg]);
        return {} as never;
      },
    },
  };
}

describe('ensureDurable', () => {
  it('updates an existing durable whose ack_wait differs, changing only what differs', async () => {
    const c = fakeConsumers({ ...wanted, ack_wait: 30_000 * 1e6 });
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).resolves.toBe('updated');
    expect(c.calls.filter(([op]) => op !== 'info')).toEqual([['update', 'FLEET_REPORTS', wanted.durable_name, { ack_wait: 5_000 * 1e6 }]]);
  });

  it('brings max_deliver and max_ack_pending to the code too, never the policies or the filter', async () => {
    const c = fakeConsumers({ ...wanted, max_deliver: 5, max_ack_pending: 1000, deliver_policy: DeliverPolicy.New, filter_subject: 'old.>' });
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).resolves.toBe('updated');
    expect(c.calls.filter(([op]) => op !== 'info')).toEqual([['update', 'FLEET_REPORTS', wanted.durable_name, { max_deliver: 20, max_ack_pending: 2000 }]]);
  });

  it('leaves a durable that already matches alone', async () => {
    const c = fakeConsumers({ ...wanted, num_replicas: 1 } as Partial<ConsumerConfig>);
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).resolves.toBe('unchanged');
    expect(c.calls.map(([op]) => op)).toEqual(['info']);
  });

  it('creates a missing durable', async () => {
    const c = fakeConsumers(null);
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).resolves.toBe('created');
    expect(c.calls.map(([op]) => op)).toEqual(['info', 'add']);
  });

  it('when another replica created it first (with old settings), updates theirs', async () => {
    const c = fakeConsumers(null, 'consumer already exists');
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).resolves.toBe('updated');
    expect(c.calls.map(([op]) => op)).toEqual(['info', 'add', 'info', 'update']);
  });

  it('passes other failures on', async () => {
    const c = fakeConsumers(null, 'stream not found');
    await expect(ensureDurable(c.api, 'FLEET_REPORTS', wanted)).rejects.toThrow('stream not found');
  });
});
