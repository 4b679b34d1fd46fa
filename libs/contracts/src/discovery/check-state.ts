import type { HealthState } from './checks.js';

/**
 * Anti-flapping state of one check, as Consul does it: a passing result only counts towards
 * `successBeforePassing`, any other result towards `failuresBeforeCritical`; the reported state
 * changes once the run of results is long enough. A new check starts critical.
 */
export interface CheckMachineState {
  status: HealthState;
  output: string;
  /** Consecutive passing results. */
  successes: number;
  /** Consecutive non-passing results. */
  failures: number;
}

export interface Thresholds {
  successBeforePassing: number;
  failuresBeforeCritical: number;
}

export function initialCheckState(output = 'not yet checked'): CheckMachineState {
  return { status: 'critical', output, successes: 0, failures: 0 };
}

/** Folds one probe result into the state; `changed` says whether the reported state moved. */
export function observeResult(
  state: CheckMachineState,
  result: HealthState,
  output: string,
  thresholds: Thresholds,
): { state: CheckMachineState; changed: boolean } {
  if (result === 'passing') {
    const successes = state.successes + 1;
    const flip = state.status !== 'passing' && successes >= thresholds.successBeforePassing;
    return {
      state: { status: flip ? 'passing' : state.status, output: flip || state.status === 'passing' ? output : state.output, successes, failures: 0 },
      changed: flip,
    };
  }
  const failures = state.failures + 1;
  const flip = state.status !== result && failures >= thresholds.failuresBeforeCritical;
  return {
    state: { status: flip ? result : state.status, output: flip || state.status === result ? output : state.output, successes: 0, failures },
    changed: flip,
  };
}

/**
 * A TTL check takes the state the service reports, at once (the service is the judge), and
 * turns critical when no report arrives within the TTL.
 */
export function reportTtl(state: CheckMachineState, status: HealthState, output: string): { state: CheckMachineState; changed: boolean } {
  return {
    state: { status, output, successes: status === 'passing' ? state.successes + 1 : 0, failures: status === 'passing' ? 0 : state.failures + 1 },
    changed: status !== state.status,
  };
}

export function expireTtl(state: CheckMachineState, ttlMs: number): { state: CheckMachineState; changed: boolean } {
  const output = `TTL of ${ttlMs} ms expired without a report`;
  return { state: { ...state, status: 'critical', output, successes: 0 }, changed: state.status !== 'critical' };
}

/** HTTP check: 2xx passing, 429 Too Many Requests warning, anything else critical. */
export function classifyHttpStatus(code: number): HealthState {
  if (code >= 200 && code < 300) return 'passing';
  if (code === 429) return 'warning';
  return 'critical';
}

/** Command check: exit 0 passing, 1 warning, anything else (or a signal) critical. */
export function classifyExitCode(code: number | null): HealthState {
  if (code === 0) return 'passing';
  if (code === 1) return 'warning';
  return 'critical';
}
