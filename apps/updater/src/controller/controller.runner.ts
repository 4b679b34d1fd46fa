import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ElectedLoop } from '#lib/persistence';
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
 * Runs the rollout controller and the lease reaper in exactly one replica (`ElectedLoop`, a
 * PostgreSQL advisory lock): a pass every `UPDATER_TICK_MS`, and sooner when something wakes it
 * (a terminal report, an operator action), but never closer than `MIN_PASS_GAP_MS` after the
 * previous pass; a wake during a pass is kept. A follower takes over within `LEADER_RETRY_MS`
 * of the leader's death and simply continues from the database.
 */
@Injectable()
export class ControllerRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new JsonLogger('updater', 'ControllerRunner');
  private readonly loop: ElectedLoop;
  private lastReap = 0;

  constructor(
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
    private readonly controller: RolloutController,
    private readonly semaphore: SemaphoreService,
    private readonly signal: ControllerSignal,
  ) {
    this.loop = new ElectedLoop({
      url: env.DATABASE_URL,
      name: 'updater:rollout-controller',
      retryMs: env.LEADER_RETRY_MS,
      periodMs: env.UPDATER_TICK_MS,
      minGapMs: MIN_PASS_GAP_MS,
      pass: () => this.pass(),
      onError: (err) => this.logger.error('controller pass failed', err),
      onLeadershipChange: (isLeader) => leading.set(isLeader ? 1 : 0),
    });
    // A no-op while this replica does not lead.
    this.signal.onWake(() => this.loop.wake());
  }

  get isLeader(): boolean {
    return this.loop.isLeader;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.signal.onWake(undefined);
    await this.loop.stop();
  }

  private async pass(): Promise<void> {
    await this.controller.tick();
    if (Date.now() - this.lastReap >= this.env.UPDATER_REAP_MS) {
      this.lastReap = Date.now();
      await this.semaphore.reapExpired();
      await this.semaphore.wakeIdle();
    }
  }
}
