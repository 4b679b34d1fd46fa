import {
  expireTtl,
  initialCheckState,
  observeResult,
  reportTtl,
  type CheckMachineState,
  type HealthState,
  type ResolvedCheck,
} from '#contracts/discovery';
import { runProbe, type ProbeResult } from './probes.js';

export interface CheckTransition {
  serviceId: string;
  checkId: string;
  status: HealthState;
  output: string;
  at: string;
}

export interface ServiceChecks {
  serviceId: string;
  checks: ResolvedCheck[];
}

export interface CheckRunnerOptions {
  onTransition: (t: CheckTransition) => void;
  /** Simulated mode: a virtual probe instead of real I/O (TTL checks are then "reported" by it too). */
  virtualProbe?: (serviceId: string, check: ResolvedCheck) => ProbeResult;
  probe?: (check: ResolvedCheck) => Promise<ProbeResult>;
}

interface Entry {
  serviceId: string;
  check: ResolvedCheck;
  key: string;
  state: CheckMachineState;
  at: string;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

const keyOf = (serviceId: string, check: ResolvedCheck) => `${serviceId}\u0000${check.id}\u0000${JSON.stringify(check)}`;

/**
 * Runs the checks of every service on the machine: probes on their interval with their timeout,
 * TTL checks from local reports, all through the anti-flapping state machine. Only state changes
 * leave it (`onTransition`); `snapshot()` gives the periodic summary.
 */
export class CheckRunner {
  private entries = new Map<string, Entry>();

  constructor(private readonly options: CheckRunnerOptions) {}

  /** Replaces the set of checks; a check whose definition did not change keeps its state and timer. */
  update(services: ServiceChecks[]): void {
    const next = new Map<string, Entry>();
    for (const { serviceId, checks } of services) {
      for (const check of checks) {
        const key = keyOf(serviceId, check);
        const existing = this.entries.get(key);
        if (existing) {
          next.set(key, existing);
          continue;
        }
        const entry: Entry = { serviceId, check, key, state: initialCheckState(), at: new Date().toISOString(), stopped: false };
        next.set(key, entry);
        this.schedule(entry, true);
      }
    }
    for (const [key, entry] of this.entries) if (!next.has(key)) this.halt(entry);
    this.entries = next;
  }

  /** A TTL report from the service itself; false when no such TTL check exists. */
  reportTtl(serviceId: string, checkId: string, status: HealthState, output: string): boolean {
    const entry = [...this.entries.values()].find((e) => e.serviceId === serviceId && e.check.id === checkId);
    if (!entry || entry.check.type !== 'ttl') return false;
    this.apply(entry, reportTtl(entry.state, status, output));
    this.armTtl(entry);
    return true;
  }

  snapshot(): CheckTransition[] {
    return [...this.entries.values()].map((e) => ({
      serviceId: e.serviceId,
      checkId: e.check.id,
      status: e.state.status,
      output: e.state.output,
      at: e.at,
    }));
  }

  stop(): void {
    for (const e of this.entries.values()) this.halt(e);
    this.entries.clear();
  }

  private halt(entry: Entry): void {
    entry.stopped = true;
    clearTimeout(entry.timer);
  }

  private apply(entry: Entry, next: { state: CheckMachineState; changed: boolean }): void {
    entry.state = next.state;
    if (!next.changed) return;
    entry.at = new Date().toISOString();
    this.options.onTransition({ serviceId: entry.serviceId, checkId: entry.check.id, status: next.state.status, output: next.state.output, at: entry.at });
  }

  private armTtl(entry: Entry): void {
    if (entry.check.type !== 'ttl') return;
    const ttl = entry.check.ttl;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!entry.stopped) this.apply(entry, expireTtl(entry.state, ttl));
    }, ttl);
    entry.timer.unref();
  }

  private schedule(entry: Entry, first: boolean): void {
    if (entry.stopped) return;
    const check = entry.check;
    if (check.type === 'ttl' && !this.options.virtualProbe) return; // waits for reports
    const interval = check.type === 'ttl' ? Math.max(100, Math.floor(check.ttl / 2)) : check.interval;
    // The first run comes soon (a new instance should not stay critical for a whole interval),
    // spread over up to a second so many checks do not start in lockstep.
    const delay = first ? Math.floor(Math.random() * Math.min(interval, 1000)) : interval;
    entry.timer = setTimeout(() => void this.run(entry), delay);
    entry.timer.unref();
  }

  private async run(entry: Entry): Promise<void> {
    if (entry.stopped) return;
    const check = entry.check;
    let result: ProbeResult;
    if (this.options.virtualProbe) {
      result = this.options.virtualProbe(entry.serviceId, check);
    } else {
      try {
        result = await (this.options.probe ?? runProbe)(check);
      } catch (err) {
        result = { status: 'critical', output: (err as Error).message };
      }
    }
    if (entry.stopped) return;
    if (check.type === 'ttl') {
      // A virtual service "reports" on every run; no expiry timer, so a busy simulator whose
      // timers slip does not make thousands of virtual TTL checks flap.
      this.apply(entry, reportTtl(entry.state, result.status, result.output));
    } else {
      this.apply(entry, observeResult(entry.state, result.status, result.output, check));
    }
    this.schedule(entry, false);
  }
}
