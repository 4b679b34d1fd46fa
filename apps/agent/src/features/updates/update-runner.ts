import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { JsonLogger } from '#lib/telemetry';
import type { BootInfo, UpdateBackend } from './backend.js';
import type { CheckResult } from './health.js';
import type { DesiredUpdate, ReportedState, UpdateProtocol } from './protocol.js';
import { DownloadError, downloadWithResume } from './download.js';
import { sha256File, verifyDigestSignature } from './signing.js';
import { compareVersions } from '#contracts/updater';
import type { UpdateState, UpdateStateStore } from './update-state.js';

export interface RunnerDeps {
  backend: UpdateBackend;
  store: UpdateStateStore;
  protocol: UpdateProtocol;
  arch: string;
  trustedKeys: KeyObject[];
  /** Where partial downloads are kept between attempts. */
  downloadDir: string;
  downloadTimeoutMs: number;
  /** Virtual slots: no download, signature checked against the declared digest only. */
  simulated: boolean;
  healthCheck: (signal: AbortSignal) => Promise<CheckResult>;
  /** The booted version changed (success or rollback): send hello again. */
  onVersionChange: () => Promise<void>;
  logger: JsonLogger;
}

/** What the loop should do next: nothing to do, ask again soon, or the machine is going down. */
export type StepResult = 'idle' | 'wait' | 'rebooting';

export function updateKey(d: DesiredUpdate): string {
  return `${d.rolloutId}:${d.version}:${d.payload?.sha256 ?? 'slot'}:${d.rollback ? 'rb' : 'up'}`;
}

/**
 * The per-node update state machine. Every step is idempotent and persisted before it acts, so a
 * restart or reboot at any point resumes it: downloading → staged → awaiting_reboot → rebooting →
 * (boot) → verifying → succeeded, or → rolling_back → (boot) → rolled_back.
 */
export class UpdateRunner {
  private state!: UpdateState;
  private doneReported = false;
  /** The platform's hint, with the last lock denial, of when to ask again. */
  retryAfterSeconds: number | null = null;

  constructor(private readonly deps: RunnerDeps) {}

  get phase(): UpdateState['phase'] {
    return this.state.phase;
  }

  /** Reconciles the persisted phase with what the bootloader did at this boot. */
  async afterBoot(boot: BootInfo): Promise<void> {
    this.state = await this.deps.store.load();
    const s = this.state;
    const status = this.deps.backend.status();
    if (!boot.newBoot || !s.target) return;
    if (s.phase === 'rebooting' || s.phase === 'verifying') {
      if (status.trial) {
        await this.save({ ...s, phase: 'verifying' });
      } else {
        await this.finish('rolled_back', 'boot_failed', 'the new image did not come up; the bootloader returned to the previous slot');
      }
    } else if (s.phase === 'rolling_back' && !status.trial) {
      const check = s.failedCheck;
      await this.finish('rolled_back', 'health_check_failed', check ? `${check.name}: ${check.reason}` : 'health check failed');
    }
  }

  async step(fetchDesired: () => Promise<DesiredUpdate | null>, signal: AbortSignal): Promise<StepResult> {
    const s = this.state;
    if (s.phase === 'verifying') return this.verify(signal);
    if (s.phase === 'rolling_back' || s.phase === 'rebooting') {
      // Still the same boot: the reboot we asked for has not happened (yet). Ask again.
      await this.deps.backend.reboot(s.phase === 'rolling_back' ? 'returning to the last good slot' : `update to ${s.target?.version}`);
      return 'rebooting';
    }
    if (s.phase === 'idle' && s.lockHeld) await this.releaseLock();

    const desired = await fetchDesired();
    if (!desired) {
      if (s.phase !== 'idle') await this.cancel('no update is desired any more');
      return 'idle';
    }
    const key = updateKey(desired);
    if (s.done?.key === key) {
      if (!this.doneReported) await this.reportDone();
      return 'idle';
    }
    if (s.target && updateKey(s.target) !== key && s.phase !== 'idle') await this.cancel('the desired update changed');
    return this.advance(desired);
  }

  private async advance(desired: DesiredUpdate): Promise<StepResult> {
    let status = this.deps.backend.status();
    if (this.state.phase === 'idle') {
      await this.save({ ...this.state, target: desired, waitReported: false, failedCheck: null });
    }
    if (desired.version === status.bootedVersion && !status.trial) {
      await this.finish('succeeded', undefined, `running ${desired.version}`);
      return 'idle';
    }
    const refusal = this.refusal(desired, status.bootedVersion);
    if (refusal) {
      await this.finish('failed', refusal.code, refusal.message);
      return 'idle';
    }
    // A rollback may return to the factory image, whose digest the slot never recorded.
    const inSlot =
      status.inactive?.version === desired.version &&
      (!desired.payload || status.inactive.sha256 === desired.payload.sha256 || (desired.rollback && status.inactive.sha256 === null));
    if (!inSlot) {
      if (!desired.payload) {
        await this.finish('failed', 'no_payload', `the other slot does not hold ${desired.version} and the release has no payload`);
        return 'idle';
      }
      if (this.state.phase !== 'downloading') {
        await this.save({ ...this.state, phase: 'downloading' });
        await this.report('downloading', undefined, undefined, status.bootedVersion);
      }
      const staged = await this.fetchAndStage(desired, desired.payload);
      if (staged !== true) return staged;
    }
    if (this.state.phase === 'idle' || this.state.phase === 'downloading') {
      await this.save({ ...this.state, phase: 'staged' });
      await this.report('staged');
    }
    return this.takeSlotAndReboot(desired);
  }

  private refusal(d: DesiredUpdate, booted: string): { code: string; message: string } | undefined {
    if (d.arch !== this.deps.arch) {
      return { code: 'wrong_arch', message: `release is for ${d.arch}, this machine is ${this.deps.arch}` };
    }
    if (compareVersions(d.version, booted) < 0 && !d.rollback) {
      return { code: 'downgrade_refused', message: `${d.version} is older than the booted ${booted} and this is not a rollback` };
    }
    if (!d.payload) return undefined;
    if (this.deps.trustedKeys.length === 0) {
      if (!this.deps.simulated) return { code: 'bad_signature', message: 'no trusted release keys are configured' };
    } else if (!safeVerify(d.payload.sha256, d.payload.signature, this.deps.trustedKeys)) {
      return { code: 'bad_signature', message: 'the release signature does not match any trusted key' };
    }
    return undefined;
  }

  /** Downloads, checks the digest and writes the inactive slot; true when staged. */
  private async fetchAndStage(d: DesiredUpdate, payload: NonNullable<DesiredUpdate['payload']>): Promise<true | StepResult> {
    if (this.deps.simulated) {
      await this.deps.backend.stage(null, { version: d.version, sha256: payload.sha256 });
      return true;
    }
    const file = join(this.deps.downloadDir, `${payload.sha256}.part`);
    try {
      await downloadWithResume({ url: payload.url, dest: file, size: payload.size, timeoutMs: this.deps.downloadTimeoutMs });
    } catch (err) {
      if (err instanceof DownloadError && err.retryable) {
        this.deps.logger.warn('payload download interrupted; will resume', { reason: err.message });
        return 'wait';
      }
      await rm(file, { force: true });
      await this.finish('failed', 'download_failed', (err as Error).message);
      return 'idle';
    }
    const actual = await sha256File(file);
    if (actual !== payload.sha256.toLowerCase()) {
      await rm(file, { force: true });
      await this.finish('failed', 'checksum_mismatch', `payload sha256 is ${actual}, the release says ${payload.sha256}`);
      return 'idle';
    }
    try {
      await this.deps.backend.stage(file, { version: d.version, sha256: payload.sha256 });
    } catch (err) {
      await this.finish('failed', 'write_failed', `writing the inactive slot failed: ${(err as Error).message}`);
      return 'idle';
    } finally {
      await rm(file, { force: true });
    }
    return true;
  }

  private async takeSlotAndReboot(d: DesiredUpdate): Promise<StepResult> {
    if (!this.state.lockHeld) {
      const answer = await this.deps.protocol.acquireLock(d.group);
      this.retryAfterSeconds = answer.granted ? null : answer.retryAfterSeconds;
      if (!answer.granted) {
        if (this.state.phase !== 'awaiting_reboot' || !this.state.waitReported) {
          await this.save({ ...this.state, phase: 'awaiting_reboot', waitReported: true });
          await this.report('awaiting_reboot', answer.code, answer.reason);
        }
        return 'wait';
      }
      await this.save({ ...this.state, lockHeld: true });
    }
    // Armed only now: a power cycle while waiting for the slot must not boot the new image.
    if (!this.deps.backend.status().armed) await this.deps.backend.markTrial();
    await this.save({ ...this.state, phase: 'rebooting' });
    await this.report('rebooting');
    await this.deps.backend.reboot(`update to ${d.version}`);
    return 'rebooting';
  }

  private async verify(signal: AbortSignal): Promise<StepResult> {
    // The checks must not wait for the platform: a trial slot left unconfirmed falls back at the
    // next boot. Reports that cannot be sent now are sent again by the next steps.
    await this.report('verifying').catch((err: Error) => this.deps.logger.warn('could not report verifying', { reason: err.message }));
    // Keep the reboot slot while the checks run (they may take minutes); a failure here is fine,
    // the slot is held by lease and an expiry only lets another machine start earlier.
    if (this.state.lockHeld && this.state.target) {
      await this.deps.protocol.acquireLock(this.state.target.group, true).catch(() => undefined);
    }
    const result = await this.deps.healthCheck(signal);
    if (signal.aborted) return 'idle';
    if (result.ok) {
      await this.deps.backend.commit();
      await this.finish('succeeded', undefined, `running ${this.state.target?.version}`);
      await this.deps.onVersionChange();
      return 'idle';
    }
    this.deps.logger.warn('health check failed on the new image; returning to the last good slot', { check: result.name, reason: result.reason });
    await this.save({ ...this.state, phase: 'rolling_back', failedCheck: { name: result.name, reason: result.reason } });
    await this.deps.backend.fallback();
    await this.deps.backend.reboot(`health check ${result.name} failed`);
    return 'rebooting';
  }

  private async cancel(reason: string): Promise<void> {
    const status = this.deps.backend.status();
    if (status.armed && !status.trial) await this.deps.backend.fallback();
    this.deps.logger.info('update cancelled', { reason, version: this.state.target?.version });
    await this.save({ ...this.state, phase: 'idle', target: null, waitReported: false });
    if (this.state.lockHeld) await this.releaseLock();
  }

  private async finish(state: 'succeeded' | 'failed' | 'rolled_back', code?: string, message?: string): Promise<void> {
    const target = this.state.target;
    if (!target) return;
    await this.save({
      ...this.state,
      phase: 'idle',
      waitReported: false,
      done: { key: updateKey(target), state, ...(code ? { code } : {}), ...(message ? { message } : {}) },
    });
    this.doneReported = false;
    if (state === 'rolled_back') await this.deps.onVersionChange().catch(() => undefined);
    await this.reportDone();
    if (this.state.lockHeld) await this.releaseLock();
  }

  private async reportDone(): Promise<void> {
    const done = this.state.done;
    if (!done || !this.state.target) return;
    await this.report(done.state, done.code, done.message);
    this.doneReported = true;
  }

  private async releaseLock(): Promise<void> {
    try {
      if (this.state.target) await this.deps.protocol.releaseLock(this.state.target.group);
      await this.save({ ...this.state, lockHeld: false });
    } catch (err) {
      // The lease expires on its own; we try again at the next step.
      this.deps.logger.warn('could not release the reboot slot yet', { reason: (err as Error).message });
    }
  }

  private async report(state: ReportedState, code?: string, message?: string, fromVersion?: string): Promise<void> {
    const target = this.state.target;
    if (!target) return;
    await this.deps.protocol.report({ rolloutId: target.rolloutId, version: target.version, state, code, message, fromVersion });
  }

  private async save(next: UpdateState): Promise<void> {
    await this.deps.store.save(next);
    this.state = next;
  }
}

function safeVerify(sha256: string, signature: string, keys: KeyObject[]): boolean {
  try {
    return verifyDigestSignature(sha256, signature, keys);
  } catch {
    return false;
  }
}
