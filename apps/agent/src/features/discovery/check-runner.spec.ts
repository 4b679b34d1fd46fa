import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkDefinitionSchema, resolveCheckIds, type CheckDefinitionInput, type HealthState } from '#contracts/discovery';
import { CheckRunner, type CheckTransition } from './check-runner.js';

const checks = (...defs: CheckDefinitionInput[]) => resolveCheckIds(defs.map((d) => checkDefinitionSchema.parse(d)));

describe('CheckRunner', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(results: HealthState[]) {
    const transitions: CheckTransition[] = [];
    let i = 0;
    const probe = vi.fn(async () => ({ status: results[Math.min(i++, results.length - 1)], output: `run ${i}` }));
    const runner = new CheckRunner({ onTransition: (t) => transitions.push(t), probe });
    return { runner, transitions, probe };
  }

  it('probes on the interval and reports only transitions, after the thresholds', async () => {
    const { runner, transitions, probe } = setup(['passing', 'passing', 'critical', 'critical', 'passing']);
    runner.update([{ serviceId: 'web', checks: checks({ type: 'tcp', tcp: 'localhost:1', interval: '1s', failuresBeforeCritical: 2 }) }]);
    await vi.advanceTimersByTimeAsync(1000 + 4 * 1000);
    expect(probe).toHaveBeenCalledTimes(5);
    expect(transitions.map((t) => t.status)).toEqual(['passing', 'critical', 'passing']);
    expect(transitions[0]).toMatchObject({ serviceId: 'web', checkId: 'tcp-1' });
    runner.stop();
  });

  it('keeps state and timers of unchanged checks across an update, and drops removed ones', async () => {
    const { runner, transitions, probe } = setup(['passing']);
    const defs = checks({ type: 'tcp', tcp: 'localhost:1', interval: '1s' });
    runner.update([{ serviceId: 'web', checks: defs }]);
    await vi.advanceTimersByTimeAsync(1000);
    runner.update([{ serviceId: 'web', checks: defs }]);
    expect(runner.snapshot()).toEqual([expect.objectContaining({ status: 'passing' })]);
    expect(transitions).toHaveLength(1);
    runner.update([]);
    const calls = probe.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(probe.mock.calls.length).toBe(calls);
    expect(runner.snapshot()).toEqual([]);
  });

  it('takes TTL reports at once and turns critical when the TTL runs out', async () => {
    const { runner, transitions } = setup(['passing']);
    runner.update([{ serviceId: 'worker', checks: checks({ type: 'ttl', id: 'beat', ttl: '2s' }) }]);
    expect(runner.reportTtl('worker', 'beat', 'passing', 'alive')).toBe(true);
    expect(runner.reportTtl('worker', 'nope', 'passing', '')).toBe(false);
    await vi.advanceTimersByTimeAsync(1500);
    runner.reportTtl('worker', 'beat', 'passing', 'alive');
    await vi.advanceTimersByTimeAsync(1500);
    expect(transitions.map((t) => t.status)).toEqual(['passing']);
    await vi.advanceTimersByTimeAsync(600);
    expect(transitions.map((t) => t.status)).toEqual(['passing', 'critical']);
    expect(transitions[1].output).toMatch(/TTL/);
    runner.stop();
  });

  it('runs virtual probes in simulated mode, TTL checks included', async () => {
    const transitions: CheckTransition[] = [];
    const runner = new CheckRunner({ onTransition: (t) => transitions.push(t), virtualProbe: () => ({ status: 'passing', output: 'sim' }) });
    runner.update([{ serviceId: 's', checks: checks({ type: 'ttl', ttl: '1s' }, { type: 'http', url: 'http://x/', interval: '1s' }) }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(transitions.map((t) => t.status)).toEqual(['passing', 'passing']);
    runner.stop();
  });
});
