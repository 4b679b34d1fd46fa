import { JetStreamApiCodes, JetStreamApiError, type ConsumerAPI, type ConsumerConfig, type ConsumerUpdateConfig } from '@nats-io/jetstream';

/** Settings of a durable that the code owns and NATS lets an existing consumer change. */
const EDITABLE = ['ack_wait', 'max_deliver', 'max_ack_pending'] as const;

/** The editable settings where `current` differs from `wanted` (empty: nothing to do). */
export function durableChanges(current: Partial<ConsumerConfig>, wanted: Partial<ConsumerConfig>): Partial<ConsumerUpdateConfig> {
  const changes: Partial<ConsumerUpdateConfig> = {};
  for (const key of EDITABLE) {
    if (wanted[key] !== undefined && current[key] !== wanted[key]) changes[key] = wanted[key];
  }
  return changes;
}

/**
 * Creates the durable consumer, or brings an existing one to `wanted`. A durable outlives the
 * code that made it, so without this a changed setting (a shorter `ack_wait`) would never reach
 * a deployed fleet: NATS 2.10+ refuses to create a durable that exists with another config
 * ("consumer already exists"), and 2.9 only changed it as a side effect of creating. Only the
 * settings in `EDITABLE` follow the code (NATS cannot change an existing durable's policies).
 */
export async function ensureDurable(
  consumers: Pick<ConsumerAPI, 'info' | 'add' | 'update'>,
  stream: string,
  wanted: Partial<ConsumerConfig> & { durable_name: string },
): Promise<'created' | 'updated' | 'unchanged'> {
  let current: Partial<ConsumerConfig>;
  try {
    current = (await consumers.info(stream, wanted.durable_name)).config;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    try {
      await consumers.add(stream, wanted);
      return 'created';
    } catch (addErr) {
      // Another replica created it meanwhile: compare with theirs.
      if (!/already (exists|in use)/i.test(String((addErr as Error).message))) throw addErr;
      current = (await consumers.info(stream, wanted.durable_name)).config;
    }
  }
  const changes = durableChanges(current, wanted);
  if (Object.keys(changes).length === 0) return 'unchanged';
  await consumers.update(stream, wanted.durable_name, changes);
  return 'updated';
}
