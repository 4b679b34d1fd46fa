import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_BUNDLE_VERB, CONFIG_NOTICE_TOPIC, bundleHash, configFileSchema, configReportSchema, type Bundle, type ConfigReport } from '#contracts/config';
import { MessageBus, encodeJson, ensureReportStream } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { configFeature, type ConfigFeature } from '../../../apps/agent/src/features/config/config.feature.js';
import { configFeatureSchema } from '../../../apps/agent/src/features/config/config.js';
import { TEST_NATS_URL, deleteStreams, eventually, testSubjectRoot } from '../../support/infra.js';

/**
 * The agent's side of the ack loop, against real NATS and real files: every notice is answered
 * (the service re-sends one when an ack was lost), a failure is reported again rather than
 * re-applied, and of notices arriving together the newest wins.
 */
describe('agent config feature: answering notices', () => {
  const root = testSubjectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'fleet-config-notices-'));
  const managed = join(dir, 'etc');
  const nodeId = 'cn-1';
  const reports: ConfigReport[] = [];
  let bus: MessageBus;
  let feature: ConfigFeature;
  let served: Bundle;

  const bundleOf = (revision: number, files: Array<Record<string, unknown>>): Bundle => {
    const parsed = files.map((f) => configFileSchema.parse(f));
    return { v: 1, nodeId, revision, hash: bundleHash(parsed), files: parsed };
  };
  const notify = (b: Bundle, inline = true) =>
    bus.nc.publish(bus.subjects.node(nodeId, CONFIG_NOTICE_TOPIC), encodeJson({ v: 1, revision: b.revision, hash: b.hash, ...(inline ? { files: b.files } : {}) }));
  const applies = () => reports.filter((r) => r.kind === 'apply');

  beforeAll(async () => {
    mkdirSync(managed, { recursive: true });
    bus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'config-notices', subjectRoot: root, service: 'agent' });
    await ensureReportStream(bus);
    bus.nc.subscribe(bus.subjects.agentReport(nodeId, 'config'), { callback: (_e, m) => void reports.push(configReportSchema.parse(m.json())) });
    served = bundleOf(1, [{ path: join(managed, 'app.conf'), content: 'one\n' }]);
    bus.nc.subscribe(bus.subjects.agent(nodeId, CONFIG_BUNDLE_VERB), { callback: (_e, m) => void m.respond(encodeJson({ ok: true, data: served })) });
    await bus.nc.flush();
    feature = configFeature();
    await feature.start(
      {
        nodeId,
        bus,
        dataDir: join(dir, 'data'),
        logger: new JsonLogger('fleet-agent', nodeId),
        simulated: false,
        facts: () => ({}) as never,
        refreshHello: async () => undefined,
        restart: async () => undefined,
      },
      configFeatureSchema.parse({ managedRoots: [managed], driftIntervalSeconds: 3600 }),
    );
    await eventually(() => applies().some((r) => r.revision === 1 && r.ok));
  });
  afterAll(async () => {
    await feature?.stop();
    await bus?.drain();
    await deleteStreams(root);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeated notice for what it holds with an ack each time, without rewriting', async () => {
    const before = applies().length;
    notify(served, false);
    await eventually(() => applies().length === before + 1);
    notify(served, false);
    await eventually(() => applies().length === before + 2);
    expect(applies().slice(-2).map((r) => [r.revision, r.hash, r.ok, r.files])).toEqual([
      [1, served.hash, true, []],
      [1, served.hash, true, []],
    ]);
    expect(readFileSync(join(managed, 'app.conf'), 'utf8')).toBe('one\n');
  });

  it('repeats a failure report for the same content instead of applying it again', async () => {
    const bad = bundleOf(2, [{ path: join(dir, 'outside.conf'), content: 'x' }]);
    notify(bad);
    const failed = await eventually(() => applies().find((r) => r.revision === 2));
    expect(failed.ok).toBe(false);
    expect(failed.files).toContainEqual(expect.objectContaining({ path: join(dir, 'outside.conf'), result: 'refused' }));
    const count = applies().length;
    notify(bad, false);
    await eventually(() => applies().length === count + 1);
    expect(applies().at(-1)).toMatchObject({ revision: 2, hash: bad.hash, ok: false, files: failed.files });
  });

  it('applies the newest of notices that arrive together', async () => {
    const three = bundleOf(3, [{ path: join(managed, 'app.conf'), content: 'three\n' }]);
    const four = bundleOf(4, [{ path: join(managed, 'app.conf'), content: 'four\n' }]);
    notify(three);
    notify(four);
    await eventually(() => applies().some((r) => r.revision === 4 && r.ok));
    expect(readFileSync(join(managed, 'app.conf'), 'utf8')).toBe('four\n');
    expect(feature.current).toMatchObject({ revision: 4, hash: four.hash, ok: true });
  });
});
