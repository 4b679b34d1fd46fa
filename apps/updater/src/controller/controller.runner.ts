import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LeaderElection } from '#lib/persistence';
import { JsonLogger, gauge } from '#lib/telemetry';
import { UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';
import { SemaphoreService } from '../locks/semaphore.service.js';
import { ControllerSignal } from './controller-signal.js';
import { RolloutController } from './rollout-controller.js';

const leading = gauge('fleet_updater_controller_leader', '1 while this replica runs the rollout controller');
/** Woken passes run at most this often, so a burst of reports costs one pass, not thousands. */
const MIN_PASS_GAP_MS = 250;

/**
 * Runs the rollout controller and the lease reaper in exactly one replica, elected through a
 * PostgreSQL advisory lock. A pass runs every tick and whenever something wakes it; a follower
 * takes over within `LEADER_RETRY_MS` of the leader's death and simply continues from the
 * database.
 */
@Injectable()
export class ControllerRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new JsonLogger('updater', 'ControllerRunner');
  private readonly election: LeaderElection;
  private running = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private woken = false;
  private lastPass = 0;
  private lastReap = 0;

  constructor(
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
    private readonly controller: RolloutController,
    private readonly semaphore: SemaphoreService,
    private readonly signal: ControllerSignal,
  ) {
    this.election = new LeaderElection({
      url: env.DATABASE_URL,
      name: 'updater:rollout-controller',
      retryMs: env.LEADER_RETRY_MS,
      onElected: () => this.startLoop(),
      onDemoted: () => this.stopLoop(),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  onApplicationBootstrap(): void {
    this.election.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.election.stop();
    await this.stopLoop();
  }

  private startLoop(): void {
    this.running = true;
    leading.set(1);
    this.signal.onWake(() => {
      this.woken = true;
      this.schedule(Math.max(0, MIN_PASS_GAP_MS - (Date.now() - this.lastPass)));
    });
    this.schedule(0);
  }

  private async stopLoop(): Promise<void> {
    this.running = false;
    leading.set(0);
    this.signal.onWake(undefined);
    clearTimeout(this.timer);
    await this.pass;
  }

  private schedule(delayMs: number): void {
    if (!this.running || this.pass) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runPass(), delayMs);
    this.timer.unref();
  }

  private async runPass(): Promise<void> {
    if (!this.running || this.pass) return;
    this.woken = false;
    this.pass = (async () => {
      try {
        await this.controller.tick();
        if (Date.now() - this.lastReap >= this.env.UPDATER_REAP_MS) {
          this.lastReap = Date.now();
          await this.semaphore.reapExpired();
          await this.semaphore.wakeIdle();
        }
      } catch (err) {
        this.logger.error('controller pass failed', err as Error);
      }
    })();
    await this.pass;
    this.pass = undefined;
    this.lastPass = Date.now();
    this.schedule(this.woken ? MIN_PASS_GAP_MS : this.env.UPDATER_TICK_MS);
  }
}
