import pg from 'pg';
import { JsonLogger } from '#lib/telemetry';

export interface LeaderElectionOptions {
  url: string;
  /** What is being led, e.g. `inventory:offline-detector`; one leader per name. */
  name: string;
  /** How often a follower tries to take over. Takeover happens within about this long. */
  retryMs?: number;
  onElected: () => void | Promise<void>;
  onDemoted: () => void | Promise<void>;
}

/**
 * Single-replica work (offline detection, rollout control, reaping) is guarded by a PostgreSQL
 * session advisory lock held on a dedicated connection. If the leader dies, its session ends and
 * the lock is freed; a follower's next attempt takes it. If the leader loses its database
 * connection it steps down at once, since it can no longer know it still holds the lock.
 */
export class LeaderElection {
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;
  private readonly logger: JsonLogger;

  constructor(private readonly options: LeaderElectionOptions) {
    this.logger = new JsonLogger('fleetcore', `leader:${options.name}`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.demote();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), this.options.retryMs ?? 2000);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.options.url, keepAlive: true });
        client.on('error', (err) => void this.lostConnection(client, err));
        await client.connect();
        this.client = client;
      }
      if (!this.leading) {
        const res = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
          `fleetcore:leader:${this.options.name}`,
        ]);
        if (res.rows[0]?.locked && !this.stopped) {
          this.leading = true;
          this.logger.info('elected leader', { name: this.options.name });
          await this.options.onElected();
        }
      } else {
        // Cheap liveness check of the session that holds the lock.
        await this.client.query('SELECT 1');
      }
    } catch (err) {
      if (this.client) await this.lostConnection(this.client, err as Error);
    } finally {
      this.schedule();
    }
  }

  private async lostConnection(client: pg.Client, err: Error): Promise<void> {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.leading) this.logger.warn('lost leader connection; stepping down', { error: err.message });
    await this.demote();
  }

  private async demote(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.options.onDemoted();
  }
}
