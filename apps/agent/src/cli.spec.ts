import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { agentVersion } from './version.js';

describe('fleet-agent CLI', () => {
  let out: string;
  let err: string;
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints the version and the help', async () => {
    await expect(main(['--version'])).resolves.toBe(0);
    expect(out).toBe(`${agentVersion()}\n`);
    expect(agentVersion()).toMatch(/^\d+\.\d+\.\d+/);
    await expect(main(['--help'])).resolves.toBe(0);
    expect(out).toContain('fleet-agent simulate --nodes N');
  });

  it('exits 2 with a clear message on bad usage', async () => {
    await expect(main([])).resolves.toBe(2);
    await expect(main(['frobnicate'])).resolves.toBe(2);
    expect(err).toContain('unknown command "frobnicate"');
    await expect(main(['simulate'])).resolves.toBe(2);
    expect(err).toContain('simulate needs --nodes N');
    await expect(main(['simulate', '--nodes', 'ten'])).resolves.toBe(2);
    expect(err).toContain('--nodes must be a number');
    await expect(main(['simulate', '--nodes', '5', '--fail-rate', '2'])).resolves.toBe(2);
    expect(err).toContain('--fail-rate must be a number from 0 to 1');
    await expect(main(['run', '--bogus'])).resolves.toBe(2);
    expect(err).toMatch(/Unknown option '--bogus'/);
  });

  it('exits 78 naming the file and key when the config is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
    try {
      const file = join(dir, 'agent.yaml');
      writeFileSync(file, 'nodeId: n1\nnatsURL: nats://x\n');
      await expect(main(['run', '--config', file])).resolves.toBe(78);
      expect(err).toContain(file);
      expect(err).toContain('unknown key "natsURL"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
