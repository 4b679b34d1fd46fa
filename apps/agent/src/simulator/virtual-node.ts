import { randomUUID } from 'node:crypto';
import type { HostFacts } from '../facts/host-facts.js';
import type { StatusSample, StatusSource } from '../runtime/host-status.js';
import { hash32 } from './prng.js';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const ROLES = ['web', 'api', 'db', 'cache', 'worker'];
const GiB = 1024 ** 3;

export interface VirtualIdentity {
  group: string;
  channel: string;
  labels: Record<string, string>;
}

/**
 * Deterministic identity of virtual node number `index` (0-based): groups round-robin, zones and
 * roles on longer strides so every group × zone × role combination occurs once the fleet has
 * 15 × K nodes.
 */
export function virtualIdentity(index: number, groups: number, channel: string): VirtualIdentity {
  return {
    group: groups <= 1 ? 'default' : `group-${index % groups}`,
    channel,
    labels: {
      // Strides of the group count keep zones and roles independent of groups for any K.
      zone: ZONES[Math.floor(index / Math.max(1, groups)) % ZONES.length],
      role: ROLES[Math.floor(index / (Math.max(1, groups) * ZONES.length)) % ROLES.length],
      simulated: 'true',
    },
  };
}

export function virtualHost(nodeId: string, index: number, os: { name: string; version: string }): HostFacts {
  return {
    hostname: nodeId,
    arch: index % 5 === 4 ? 'aarch64' : 'x86_64',
    os,
    kernel: '6.6.0-fleetcore-sim',
    runtimes: index % 2 === 0 ? [{ name: 'containerd', version: '1.7.13' }] : [{ name: 'docker', version: '25.0.3' }],
    bootId: randomUUID(),
  };
}

/**
 * Cheap, plausible status for a virtual node: uptime since its virtual boot, a load and memory
 * use that wander a little per heartbeat. No system calls: the simulator sends 1,000 a second.
 */
export class VirtualStatus implements StatusSource {
  private readonly bootAt = Date.now();
  private readonly seed: number;
  private readonly memTotal: number;

  constructor(nodeId: string, index: number) {
    this.seed = hash32(nodeId);
    this.memTotal = [4, 8, 16, 32][index % 4] * GiB;
  }

  sample(): StatusSample {
    const tick = Math.floor(Date.now() / 1000);
    const noise = ((this.seed ^ Math.imul(tick, 2654435761)) >>> 0) / 4294967296;
    const load = Math.round((0.2 + noise * 1.5) * 100) / 100;
    return {
      uptimeSeconds: Math.round((Date.now() - this.bootAt) / 1000) + (this.seed % 86_400),
      load: [load, Math.round(load * 90) / 100, Math.round(load * 80) / 100],
      memory: { totalBytes: this.memTotal, availableBytes: Math.round(this.memTotal * (0.3 + noise * 0.4)) },
      disk: { totalBytes: 100 * GiB, availableBytes: Math.round((40 + (this.seed % 50)) * GiB) },
    };
  }
}
