import pg from 'pg';
import { MessageBus } from '#lib/messaging';
import { startInventoryService } from '../../../apps/inventory/src/main.js';
import { startUpdaterService, type RunningUpdater } from '../../../apps/updater/src/main.js';
import { VirtualFleet } from '../../../apps/updater/src/testing/virtual-fleet.js';
import { UPDATER, updaterVerbs, type CreateRelease, type ReleaseView } from '#contracts/updater';
import { TEST_NATS_URL, createTestDatabase, deleteStreams, eventually, testSubjectRoot } from '../../support/infra.js';
import { generateKeyPairSync, sign, createHash } from 'node:crypto';

/** A private platform per test file: real PostgreSQL database, NATS subject root, inventory, updater(s). */
export class UpdaterHarness {
  readonly root = testSubjectRoot();
  dbUrl = '';
  private dropDb?: () => Promise<void>;
  client!: MessageBus;
  fleet!: VirtualFleet;
  inventory?: { close(): Promise<void> };
  readonly updaters: RunningUpdater[] = [];
  private pool?: pg.Pool;

  constructor(private readonly overrides: Record<string, string> = {}) {}

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: this.dbUrl,
      FLEET_SUBJECT_ROOT: this.root,
      LOG_LEVEL: 'error',
      UPDATER_TICK_MS: '100',
      UPDATER_MEMBERS_REFRESH_MS: '60000',
      UPDATER_REAP_MS: '200',
      UPDATER_LOCK_RETRY_SECONDS: '0.2',
      LEADER_RETRY_MS: '200',
      HEARTBEAT_INTERVAL_SECONDS: '30',
      ...this.overrides,
      ...extra,
    };
  }

  async setUp(options: { inventory?: boolean; updaters?: number } = {}): Promise<void> {
    const db = await createTestDatabase();
    this.dbUrl = db.url;
    this.dropDb = db.drop;
    this.client = await MessageBus.connect({ url: TEST_NATS_URL, name: 'updater-test', subjectRoot: this.root, service: 'test' });
    this.fleet = new VirtualFleet(this.client);
    if (options.inventory !== false) this.inventory = await startInventoryService(this.env());
    for (let i = 0; i < (options.updaters ?? 1); i++) await this.startUpdater();
    this.pool = new pg.Pool({ connectionString: this.dbUrl, max: 3 });
  }

  async startUpdater(extra: Record<string, string> = {}): Promise<RunningUpdater> {
    const u = await startUpdaterService(this.env(extra));
    this.updaters.push(u);
    return u;
  }

  async leader(): Promise<RunningUpdater> {
    return eventually(() => this.updaters.find((u) => u.isLeader), 10_000);
  }

  async tearDown(): Promise<void> {
    this.fleet?.stopAuto();
    for (const u of this.updaters) await u.close().catch(() => undefined);
    await this.inventory?.close().catch(() => undefined);
    await this.client?.drain().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await deleteStreams(this.root);
    await this.dropDb?.();
  }

  call<T = unknown>(verb: keyof typeof updaterVerbs, body: unknown): Promise<T> {
    return this.client.request<T>(this.client.subjects.svc(UPDATER, updaterVerbs[verb]), body, 15_000);
  }

  /** The error a call fails with (or a failure if it succeeds). */
  async callError(verb: keyof typeof updaterVerbs, body: unknown): Promise<{ code: string; message: string }> {
    try {
      await this.call(verb, body);
    } catch (err) {
      return err as { code: string; message: string };
    }
    throw new Error(`${verb} unexpectedly succeeded`);
  }

  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool!.query(text, params)).rows as T[];
  }

  async createRelease(version: string, extra: Partial<CreateRelease> = {}): Promise<ReleaseView> {
    return this.call<ReleaseView>('createRelease', { version, channel: 'stable', arch: 'x86_64', payload: signedPayload(version), ...extra });
  }
}

const keys = generateKeyPairSync('ed25519');

/** A payload description signed the way releases are: ed25519 over the raw sha256 digest. */
export function signedPayload(seed: string) {
  const digest = createHash('sha256').update(`image ${seed}`).digest();
  return {
    url: `http://127.0.0.1:9/images/${seed}.img`,
    sha256: digest.toString('hex'),
    size: 1024,
    signature: sign(null, digest, keys.privateKey).toString('base64'),
  };
}

export interface RolloutNodesPage {
  items: Array<{ nodeId: string; state: string; code: string | null; wave: number; bucket: number; rollback: boolean; activatedAt: string | null; transitions: Array<{ state: string; at: string; code?: string }> }>;
  total: number;
  nextCursor: string | null;
}

/** Every node of a rollout, following the pages. */
export async function allRolloutNodes(h: UpdaterHarness, id: string, filter: Record<string, unknown> = {}): Promise<RolloutNodesPage['items']> {
  const items: RolloutNodesPage['items'] = [];
  let cursor: string | null | undefined;
  do {
    const page: RolloutNodesPage = await h.call('rolloutNodes', { id, limit: 1000, ...filter, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Samples the reboot-slot holders of every group in the database until stopped; returns the max per group. */
export function sampleHolders(h: UpdaterHarness, everyMs = 20): { stop(): Promise<Map<string, number>> } {
  const max = new Map<string, number>();
  let on = true;
  const loop = (async () => {
    while (on) {
      const rows = await h.sql<{ group: string; n: number }>(
        `SELECT "group", count(*)::int AS n FROM updater.reboot_locks WHERE expires_at > now() GROUP BY "group"`,
      );
      for (const r of rows) max.set(r.group, Math.max(max.get(r.group) ?? 0, r.n));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return max;
    },
  };
}
