import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Subjects } from '#contracts/common';

/** Where the test infrastructure lives; CI and developers have both on these ports. */
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/**
 * A throwaway database per test file, so files can run in parallel and leave nothing behind.
 * Returns its URL and a function that drops it.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('fc_test_');
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * A private subject root per test file (`t<hex>` instead of `fleet`), so parallel files and
 * developers' running platforms never see each other's messages or streams.
 */
export function testSubjectRoot(): string {
  return uniqueName('t');
}

export async function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: TEST_NATS_URL });
}

/** Deletes the JetStream streams a test root created. */
export async function deleteStreams(root: string): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await jetstreamManager(nc);
    const subjects = new Subjects(root);
    for (const name of [subjects.eventsStream, subjects.reportsStream]) {
      await jsm.streams.delete(name).catch(() => undefined);
    }
    const prefix = root.toUpperCase();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${prefix}_`)) await jsm.streams.delete(info.config.name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

/** Polls until `check` returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
