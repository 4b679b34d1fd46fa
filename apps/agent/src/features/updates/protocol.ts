/**
 * What the update runner needs from the platform, independent of the wire: the NATS
 * implementation is in `nats-protocol.ts`; unit specs drive the runner with an in-memory one.
 */
export interface DesiredUpdate {
  rolloutId: string;
  version: string;
  arch: string;
  /** The operator asked to return to this (older) release. */
  rollback: boolean;
  /** Reboot-slot group named in lock requests. */
  group: string;
  /** Null only for a rollback to a release the platform no longer knows: switch slots. */
  payload: { url: string; sha256: string; size: number; signature: string } | null;
  /** Grows with every change of this node's desired update; orders notices against fetches. */
  revision?: number;
}

export type ReportedState =
  | 'downloading'
  | 'staged'
  | 'awaiting_reboot'
  | 'rebooting'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'rolled_back';

export interface UpdateReport {
  rolloutId: string;
  version: string;
  state: ReportedState;
  code?: string;
  message?: string;
  fromVersion?: string;
}

export type LockAnswer = { granted: true } | { granted: false; code: string; reason: string; retryAfterSeconds: number | null };

export interface UpdateProtocol {
  fetchDesired(): Promise<DesiredUpdate | null>;
  report(report: UpdateReport): Promise<void>;
  acquireLock(group: string, renew?: boolean): Promise<LockAnswer>;
  releaseLock(group: string): Promise<void>;
}
