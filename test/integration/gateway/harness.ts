import type { Type } from '@nestjs/common';
import request from 'supertest';
import type { Test } from 'supertest';
import { startGatewayService, type GatewayHandle } from '../../../apps/gateway/src/main.js';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, testSubjectRoot } from '../../support/infra.js';

export const ADMIN_TOKEN = `fct_test-admin-${'x'.repeat(40)}`;

export interface GatewayFixture {
  gateway: GatewayHandle;
  root: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  /** supertest agent on the real HTTP server. */
  http: () => ReturnType<typeof request>;
  /** A request with `Authorization: Bearer <token>`. */
  as: (token: string) => {
    get: (path: string) => Test;
    post: (path: string) => Test;
    patch: (path: string) => Test;
    put: (path: string) => Test;
    delete: (path: string) => Test;
  };
  close: () => Promise<void>;
}

/** A gateway on a private database and subject root, with `ADMIN_TOKEN` as its bootstrap token. */
export async function startGatewayFixture(
  extraEnv: NodeJS.ProcessEnv = {},
  options: { root?: string; databaseUrl?: string; print?: (line: string) => void; extraModules?: Type[] } = {},
): Promise<GatewayFixture> {
  const root = options.root ?? testSubjectRoot();
  const db = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? db!.url;
  const env: NodeJS.ProcessEnv = {
    NATS_URL: TEST_NATS_URL,
    DATABASE_URL: databaseUrl,
    FLEET_SUBJECT_ROOT: root,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.GW_TEST_LOG_LEVEL ?? 'error',
    FLEET_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEWAY_FLUSH_MS: '100',
    READY_TIMEOUT_MS: '300',
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const gateway = await startGatewayService(env, { print: options.print ?? (() => undefined), extraModules: options.extraModules });
  const server = gateway.app.getHttpServer();
  const http = () => request(server);
  const as = (token: string) => {
    const auth = (t: Test) => t.set('authorization', `Bearer ${token}`);
    return {
      get: (p: string) => auth(http().get(p)),
      post: (p: string) => auth(http().post(p)),
      patch: (p: string) => auth(http().patch(p)),
      put: (p: string) => auth(http().put(p)),
      delete: (p: string) => auth(http().delete(p)),
    };
  };
  return {
    gateway,
    root,
    databaseUrl,
    env,
    http,
    as,
    close: async () => {
      await gateway.close();
      if (!options.root) await deleteStreams(root);
      await db?.drop();
    },
  };
}
