import { readFile, statfs } from 'node:fs/promises';
import { freemem, loadavg, totalmem, uptime } from 'node:os';
import type { HeartbeatInput } from '#contracts/inventory';

/** What a heartbeat says about the machine; the runtime adds version, health and OS version. */
export type StatusSample = Pick<HeartbeatInput, 'uptimeSeconds' | 'load' | 'memory' | 'disk'>;

export interface StatusSource {
  sample(): StatusSample | Promise<StatusSample>;
}

/** `MemAvailable` from /proc/meminfo in bytes: what the kernel thinks can be used without swapping. */
export function parseMemAvailable(meminfo: string): number | undefined {
  const match = /^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** The real machine: uptime, load, memory and the disk holding the agent's data directory. */
export class HostStatus implements StatusSource {
  constructor(private readonly dataDir: string) {}

  async sample(): Promise<StatusSample> {
    const [available, disk] = await Promise.all([this.memAvailable(), this.disk()]);
    const load = loadavg();
    return {
      uptimeSeconds: Math.max(0, Math.round(uptime())),
      load: [load[0], load[1], load[2]].map((n) => Math.max(0, Math.round(n * 100) / 100)) as [number, number, number],
      memory: { totalBytes: totalmem(), availableBytes: available },
      disk,
    };
  }

  private async memAvailable(): Promise<number> {
    try {
      return parseMemAvailable(await readFile('/proc/meminfo', 'utf8')) ?? freemem();
    } catch {
      return freemem();
    }
  }

  private async disk(): Promise<{ totalBytes: number; availableBytes: number }> {
    try {
      const s = await statfs(this.dataDir);
      return { totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
    } catch {
      return { totalBytes: 0, availableBytes: 0 };
    }
  }
}
