import { describe, expect, it } from 'vitest';
import { agentRegisterSchema, registerInstanceSchema, type AgentRegister } from '#contracts/discovery';
import type { Draft, InstanceRecord } from './records.js';
import {
  applyAgentRegistration,
  applyApiRegistration,
  applyCheckReports,
  applyNodeStatus,
  applyTtlUpdate,
  expireTtls,
  reapCritical,
  reportsToWrite,
} from './transitions.js';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/** Applies a draft as the store would (index bump), returning the rows after it. */
function commit(rows: InstanceRecord[], draft: Draft, index: number): InstanceRecord[] {
  const deleted = new Set(draft.deletes.map((d) => d.id));
  const out = new Map(rows.filter((r) => !deleted.has(r.id)).map((r) => [r.id, r]));
  for (const u of draft.upserts) out.set(u.record.id, { ...u.record, modifyIndex: index, createIndex: u.record.createIndex || index });
  for (const q of draft.quiet ?? []) out.set(q.id, q);
  return [...out.values()];
}

const agentSet = (services: AgentRegister['services']) => agentRegisterSchema.parse({ v: 1, group: 'eu', services });
const web = { name: 'web', port: 80, address: '10.0.0.5', checks: [{ type: 'http' as const, url: 'http://127.0.0.1/health', id: 'h' }] };

describe('agent registration (full set per node)', () => {
  it('registers new definitions critical until a check passes, with node-scoped ids', () => {
    const draft = applyAgentRegistration([], 'n1', agentSet([web, { name: 'plain', port: 9, address: '10.0.0.5' }]), T0);
    expect(draft.upserts.map((u) => [u.record.id, u.kind, u.record.health])).toEqual([
      ['n1:web', 'registered', 'critical'],
      ['n1:plain', 'registered', 'passing'],
    ]);
    expect(draft.upserts[0].record).toMatchObject({ nodeId: 'n1', group: 'eu', source: 'agent', criticalSince: T0 });
  });

  it('changes nothing when the same set comes again', () => {
    const rows = commit([], applyAgentRegistration([], 'n1', agentSet([web]), T0), 1);
    const again = applyAgentRegistration(rows, 'n1', agentSet([web]), at(1000));
    expect(again.upserts).toEqual([]);
    expect(again.deletes).toEqual([]);
  });

  it('removes definitions that disappeared from the set, and only this node\'s agent instances', () => {
    let rows = commit([], applyAgentRegistration([], 'n1', agentSet([web, { name: 'db', port: 5432, address: '10.0.0.5' }]), T0), 1);
    rows = commit(rows, applyApiRegistration(undefined, registerInstanceSchema.parse({ name: 'ext', address: '1.2.3.4', port: 1, nodeId: 'n1' }), T0), 2);
    const draft = applyAgentRegistration(rows, 'n1', agentSet([web]), at(1000));
    expect(draft.deletes.map((d) => d.id)).toEqual(['n1:db']);
  });

  it('keeps the state of checks that survive a definition change', () => {
    let rows = commit([], applyAgentRegistration([], 'n1', agentSet([web]), T0), 1);
    rows = commit(rows, applyCheckReports(rows, 'n1', [{ serviceId: 'web', checkId: 'h', status: 'passing', output: 'ok', at: at(500) }], at(500)), 2);
    const draft = applyAgentRegistration(rows, 'n1', agentSet([{ ...web, tags: ['v2'] }]), at(1000));
    expect(draft.upserts).toHaveLength(1);
    expect(draft.upserts[0]).toMatchObject({ kind: 'updated', record: { tags: ['v2'], health: 'passing' } });
  });

  it('brings a node\'s instances back from offline when its agent registers again', () => {
    let rows = commit([], applyAgentRegistration([], 'n1', agentSet([{ name: 'plain', port: 9, address: '10.0.0.5' }]), T0), 1);
    rows = commit(rows, applyNodeStatus(rows, true, at(100)), 2);
    expect(rows[0].health).toBe('critical');
    const draft = applyAgentRegistration(rows, 'n1', agentSet([{ name: 'plain', port: 9, address: '10.0.0.5' }]), at(200));
    expect(draft.upserts[0]).toMatchObject({ kind: 'health', record: { nodeOffline: false, health: 'passing', criticalSince: null } });
  });
});

describe('check reports', () => {
  const rows0 = commit([], applyAgentRegistration([], 'n1', agentSet([web]), T0), 1);
  const report = (status: 'passing' | 'warning' | 'critical', ms: number) => ({ serviceId: 'web', checkId: 'h', status, output: status, at: at(ms) });

  it('applies a transition and recomputes health', () => {
    const draft = applyCheckReports(rows0, 'n1', [report('passing', 10)], at(10));
    expect(draft.upserts[0]).toMatchObject({ kind: 'health', previousHealth: 'critical', record: { health: 'passing', criticalSince: null } });
  });

  it('ignores reports older than the stored observation, unknown checks and repeats', () => {
    const rows = commit(rows0, applyCheckReports(rows0, 'n1', [report('passing', 1000)], at(1000)), 2);
    expect(applyCheckReports(rows, 'n1', [report('critical', 500)], at(1100)).upserts).toEqual([]);
    expect(applyCheckReports(rows, 'n1', [report('passing', 2000)], at(2000)).upserts).toEqual([]);
    expect(applyCheckReports(rows, 'n1', [{ ...report('critical', 2000), checkId: 'zz' }], at(2000)).upserts).toEqual([]);
    expect(applyCheckReports(rows, 'n2', [report('critical', 2000)], at(2000)).upserts).toEqual([]);
  });

  describe('choosing what a batch writes', () => {
    const rows = commit(rows0, applyCheckReports(rows0, 'n1', [report('passing', 1000)], at(1000)), 2);
    const cache = (id: string) => rows.find((r) => r.id === id);

    it('skips nodes whose reports all match the cache, and unknown instances', () => {
      const byNode = reportsToWrite(cache, [
        { nodeId: 'n1', checks: [report('passing', 2000)] },
        { nodeId: 'n2', checks: [report('critical', 2000)] },
      ]);
      expect([...byNode.keys()]).toEqual([]);
    });

    it('keeps a report back to the cached status that follows a change in the same batch, so the newest wins', () => {
      const byNode = reportsToWrite(cache, [
        { nodeId: 'n1', checks: [report('critical', 2000)] },
        { nodeId: 'n1', checks: [report('passing', 3000)] },
      ]);
      expect(byNode.get('n1')?.map((c) => c.status)).toEqual(['critical', 'passing']);
      const draft = applyCheckReports(rows, 'n1', byNode.get('n1')!, at(3000));
      expect(draft.upserts[0].record.checks[0]).toMatchObject({ status: 'passing', updatedAt: at(3000) });
      expect(draft.upserts[0].record.health).toBe('passing');
    });
  });
});

describe('node offline, TTL expiry and reaping', () => {
  const reg = registerInstanceSchema.parse({
    id: 'api-1',
    name: 'api',
    address: '10.0.0.9',
    port: 80,
    nodeId: 'n9',
    checks: [{ type: 'ttl', id: 't', ttl: '10s', deregisterCriticalAfter: '1m' }],
  });

  it('turns an instance critical while its node is offline, and back when online', () => {
    let rows = commit([], applyApiRegistration(undefined, reg, T0), 1);
    rows = commit(rows, applyTtlUpdate(rows[0], { instanceId: 'api-1', checkId: 't', status: 'passing', output: '' }, at(1)), 2);
    expect(rows[0].health).toBe('passing');
    rows = commit(rows, applyNodeStatus(rows, true, at(2)), 3);
    expect(rows[0]).toMatchObject({ health: 'critical', nodeOffline: true, criticalSince: at(2) });
    expect(applyNodeStatus(rows, true, at(3)).upserts).toEqual([]);
    rows = commit(rows, applyNodeStatus(rows, false, at(4)), 4);
    expect(rows[0]).toMatchObject({ health: 'passing', criticalSince: null });
  });

  it('expires a TTL check only after its deadline', () => {
    let rows = commit([], applyApiRegistration(undefined, reg, T0), 1);
    rows = commit(rows, applyTtlUpdate(rows[0], { instanceId: 'api-1', checkId: 't', status: 'passing', output: '' }, at(0)), 2);
    expect(expireTtls(rows, at(9_999)).upserts).toEqual([]);
    const draft = expireTtls(rows, at(10_000));
    expect(draft.upserts[0].record).toMatchObject({ health: 'critical', criticalSince: at(10_000) });
  });

  it('takes a TTL refresh without a state change as a quiet write', () => {
    let rows = commit([], applyApiRegistration(undefined, reg, T0), 1);
    rows = commit(rows, applyTtlUpdate(rows[0], { instanceId: 'api-1', checkId: 't', status: 'passing', output: '' }, at(0)), 2);
    const draft = applyTtlUpdate(rows[0], { instanceId: 'api-1', checkId: 't', status: 'passing', output: '' }, at(5000));
    expect(draft.upserts).toEqual([]);
    expect(draft.quiet?.[0].checks[0].expiresAt).toBe(at(15_000));
  });

  it('reaps only instances critical for longer than deregisterCriticalAfter', () => {
    const rows = commit([], applyApiRegistration(undefined, reg, T0), 1);
    expect(reapCritical(rows, at(59_999)).deletes).toEqual([]);
    expect(reapCritical(rows, at(60_000)).deletes.map((d) => d.id)).toEqual(['api-1']);
  });

  it('refuses to let the API take over an agent-managed instance', () => {
    const rows = commit([], applyAgentRegistration([], 'n1', agentSet([web]), T0), 1);
    expect(() =>
      applyApiRegistration(rows[0], registerInstanceSchema.parse({ id: 'n1:web', name: 'web', address: '1.1.1.1', port: 1 }), T0),
    ).toThrow(/managed by the agent/);
  });
});
