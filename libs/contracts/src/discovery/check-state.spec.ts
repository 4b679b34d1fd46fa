import { describe, expect, it } from 'vitest';
import {
  classifyExitCode,
  classifyHttpStatus,
  expireTtl,
  initialCheckState,
  observeResult,
  reportTtl,
  type CheckMachineState,
  type Thresholds,
} from './check-state.js';
import type { HealthState } from './checks.js';
import { aggregateHealth } from './health.js';

function run(results: HealthState[], thresholds: Thresholds, from = initialCheckState()) {
  let state: CheckMachineState = from;
  const statuses: HealthState[] = [];
  const changes: boolean[] = [];
  for (const r of results) {
    const next = observeResult(state, r, `result ${r}`, thresholds);
    state = next.state;
    statuses.push(state.status);
    changes.push(next.changed);
  }
  return { state, statuses, changes };
}

describe('check state machine', () => {
  it('starts a new check critical until a check passes', () => {
    expect(initialCheckState().status).toBe('critical');
    const { statuses, changes } = run(['passing'], { successBeforePassing: 1, failuresBeforeCritical: 1 });
    expect(statuses).toEqual(['passing']);
    expect(changes).toEqual([true]);
  });

  it('needs successBeforePassing consecutive successes to turn passing', () => {
    const t = { successBeforePassing: 3, failuresBeforeCritical: 1 };
    expect(run(['passing', 'passing', 'passing'], t).statuses).toEqual(['critical', 'critical', 'passing']);
    // A failure in between restarts the count.
    expect(run(['passing', 'passing', 'critical', 'passing', 'passing', 'passing'], t).statuses).toEqual([
      'critical',
      'critical',
      'critical',
      'critical',
      'critical',
      'passing',
    ]);
  });

  it('needs failuresBeforeCritical consecutive failures to leave passing', () => {
    const t = { successBeforePassing: 1, failuresBeforeCritical: 3 };
    const { statuses, changes } = run(['passing', 'critical', 'critical', 'passing', 'critical', 'critical', 'critical'], t);
    expect(statuses).toEqual(['passing', 'passing', 'passing', 'passing', 'passing', 'passing', 'critical']);
    expect(changes.filter(Boolean)).toHaveLength(2);
  });

  it('turns warning on warning results and critical once a critical result extends the failure run', () => {
    const t = { successBeforePassing: 1, failuresBeforeCritical: 2 };
    const { statuses } = run(['passing', 'warning', 'warning', 'critical', 'critical'], t);
    // Warnings and criticals both extend the run of failures.
    expect(statuses).toEqual(['passing', 'passing', 'warning', 'critical', 'critical']);
  });

  it('reports no change while the result repeats the current state', () => {
    const { changes } = run(['passing', 'passing', 'passing'], { successBeforePassing: 1, failuresBeforeCritical: 1 });
    expect(changes).toEqual([true, false, false]);
  });

  it('keeps the output of the reported state while a flip is pending', () => {
    const t = { successBeforePassing: 1, failuresBeforeCritical: 2 };
    const { state } = run(['passing', 'critical'], t);
    expect(state.status).toBe('passing');
    expect(state.output).toBe('result passing');
  });

  it('lets a TTL check take the reported state at once and expire to critical', () => {
    let { state, changed } = reportTtl(initialCheckState(), 'passing', 'ok');
    expect([state.status, changed]).toEqual(['passing', true]);
    ({ state, changed } = reportTtl(state, 'passing', 'ok'));
    expect(changed).toBe(false);
    ({ state, changed } = expireTtl(state, 5000));
    expect([state.status, changed]).toEqual(['critical', true]);
    expect(state.output).toMatch(/5000 ms expired/);
    expect(expireTtl(state, 5000).changed).toBe(false);
  });
});

describe('probe result classification', () => {
  it('maps HTTP 2xx to passing, 429 to warning, everything else to critical', () => {
    expect([200, 204, 299].map(classifyHttpStatus)).toEqual(['passing', 'passing', 'passing']);
    expect(classifyHttpStatus(429)).toBe('warning');
    expect([301, 404, 500, 503, 199].map(classifyHttpStatus)).toEqual(Array(5).fill('critical'));
  });

  it('maps exit 0 to passing, 1 to warning, anything else or a signal to critical', () => {
    expect(classifyExitCode(0)).toBe('passing');
    expect(classifyExitCode(1)).toBe('warning');
    expect(classifyExitCode(2)).toBe('critical');
    expect(classifyExitCode(127)).toBe('critical');
    expect(classifyExitCode(null)).toBe('critical');
  });
});

describe('instance health', () => {
  it('is the worst of its checks', () => {
    expect(aggregateHealth([{ status: 'passing' }, { status: 'warning' }])).toBe('warning');
    expect(aggregateHealth([{ status: 'warning' }, { status: 'critical' }, { status: 'passing' }])).toBe('critical');
    expect(aggregateHealth([{ status: 'passing' }])).toBe('passing');
  });

  it('is passing without checks and critical while the node is offline', () => {
    expect(aggregateHealth([])).toBe('passing');
    expect(aggregateHealth([], true)).toBe('critical');
    expect(aggregateHealth([{ status: 'passing' }], true)).toBe('critical');
  });
});
