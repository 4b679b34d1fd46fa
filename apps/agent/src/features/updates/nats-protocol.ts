import {
  AGENT_UPDATE_VERBS,
  UPDATE_REPORT_AREA,
  desiredUpdateSchema,
  lockReplySchema,
  updateReportMsgId,
  type DesiredUpdate as WireDesired,
  type LockRequest,
  type UpdateReportInput,
} from '#contracts/updater';
import { FleetError, parseOrThrow } from '#contracts/common';
import { encodeJson, type MessageBus } from '#lib/messaging';
import type { DesiredUpdate, LockAnswer, UpdateProtocol, UpdateReport } from './protocol.js';

/** The update protocol on NATS, as `libs/contracts/src/updater/agent-protocol.ts` lays it out. */
export class NatsUpdateProtocol implements UpdateProtocol {
  constructor(
    private readonly bus: MessageBus,
    private readonly nodeId: string,
  ) {}

  async fetchDesired(): Promise<DesiredUpdate | null> {
    const raw = await this.bus.request(this.bus.subjects.agent(this.nodeId, AGENT_UPDATE_VERBS.desired), { v: 1 });
    return fromWire(parseOrThrow(desiredUpdateSchema, raw, 'desired update'));
  }

  async report(report: UpdateReport): Promise<void> {
    const body: UpdateReportInput = { v: 1, ...report, at: new Date().toISOString() };
    for (const key of ['code', 'message', 'fromVersion'] as const) if (body[key] === undefined) delete body[key];
    const msgID = updateReportMsgId(this.nodeId, body as Parameters<typeof updateReportMsgId>[1]);
    await this.bus.js.publish(this.bus.subjects.agentReport(this.nodeId, UPDATE_REPORT_AREA), encodeJson(body), { msgID });
  }

  async acquireLock(group: string, renew = false): Promise<LockAnswer> {
    const reply = await this.lock({ v: 1, action: renew ? 'renew' : 'acquire', group });
    if (reply.granted) return { granted: true };
    return { granted: false, code: reply.reason ?? 'lock_unavailable', reason: reply.message, retryAfterSeconds: reply.retryAfterSeconds };
  }

  async releaseLock(group: string): Promise<void> {
    await this.lock({ v: 1, action: 'release', group });
  }

  private async lock(body: LockRequest) {
    const raw = await this.bus.request(this.bus.subjects.agent(this.nodeId, AGENT_UPDATE_VERBS.lock), body);
    return parseOrThrow(lockReplySchema, raw, 'lock reply');
  }
}

/** Turns the wire's desired update into the runner's; also used for notices. */
export function fromWire(desired: WireDesired): DesiredUpdate | null {
  const u = desired.update;
  if (!u) return null;
  return {
    rolloutId: u.rolloutId,
    version: u.release.version,
    arch: u.release.arch,
    rollback: u.rollback,
    group: u.group,
    payload: u.release.payload,
    revision: u.revision,
  };
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof FleetError && (err.code === 'unavailable' || err.code === 'timeout');
}
