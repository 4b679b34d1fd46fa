import { Inject, Injectable } from '@nestjs/common';
import type { MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import { UPDATER, UPDATER_EVENTS } from '#contracts/updater';
import { UPDATER_BUS } from './tokens.js';

export interface NodeTransitionEvent {
  rolloutId: string;
  nodeId: string;
  from: string;
  state: string;
  rollback: boolean;
  code: string | null;
  at: string;
}

const emitted = counter('fleet_updater_events_total', 'Updater events published, by event and result', ['event', 'result']);

/**
 * Publishes `<root>.events.updater.*`. State is already committed in PostgreSQL when an event is
 * sent, so emitting never blocks the caller: publishes are pipelined and a failure is counted and
 * logged once per cause. `flush()` waits for those in flight (shutdown, tests).
 */
@Injectable()
export class UpdaterEvents {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly problems: OncePerCause;

  constructor(@Inject(UPDATER_BUS) private readonly bus: MessageBus) {
    this.problems = new OncePerCause(new JsonLogger(UPDATER, 'events'));
  }

  emit(event: string, data: unknown, id?: string): void {
    const p = this.bus
      .emit(UPDATER, event, data, id)
      .then(() => emitted.inc({ event, result: 'ok' }))
      .catch((err: Error) => {
        emitted.inc({ event, result: 'error' });
        this.problems.warn(`emit:${event}`, `could not publish updater event ${event}`, { error: err.message });
      });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Node transitions, one `node.states` event per rollout and 500 transitions. */
  emitNodeTransitions(transitions: NodeTransitionEvent[]): void {
    const byRollout = new Map<string, Array<Omit<NodeTransitionEvent, 'rolloutId'>>>();
    for (const { rolloutId, ...t } of transitions) {
      const list = byRollout.get(rolloutId) ?? [];
      list.push(t);
      byRollout.set(rolloutId, list);
    }
    for (const [rolloutId, list] of byRollout) {
      for (let i = 0; i < list.length; i += 500) {
        this.emit(UPDATER_EVENTS.nodeStates, { rolloutId, transitions: list.slice(i, i + 500) });
      }
    }
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
