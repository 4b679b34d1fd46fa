import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { arch as nodeArch, hostname, release } from 'node:os';
import type { z } from 'zod';
import type { runtimeSchema } from '#contracts/inventory';
import { osIdentity, parseOsRelease } from './os-release.js';

export type ContainerRuntime = z.output<typeof runtimeSchema>;

/** The facts the core knows about the machine itself; features may add the booted slot. */
export interface HostFacts {
  hostname: string;
  arch: string;
  os: { name: string; version: string };
  kernel: string;
  runtimes: ContainerRuntime[];
  bootId?: string;
}

const ARCH: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armv7l',
  ia32: 'i686',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
};

/** Node's architecture names mapped to the kernel's (`uname -m`), which OS images use. */
export function machineArch(name: string = nodeArch()): string {
  return ARCH[name] ?? name;
}

export async function readOsRelease(paths = ['/etc/os-release', '/usr/lib/os-release']): Promise<{ name: string; version: string }> {
  for (const path of paths) {
    try {
      return osIdentity(parseOsRelease(await readFile(path, 'utf8')));
    } catch {
      // try the next location
    }
  }
  return { name: 'Linux', version: 'unknown' };
}

export async function readBootId(): Promise<string | undefined> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim().slice(0, 64) || undefined;
  } catch {
    return undefined;
  }
}

const RUNTIME_PROBES: Array<{ name: ContainerRuntime['name']; cmd: string; args: string[] }> = [
  { name: 'docker', cmd: 'docker', args: ['--version'] },
  { name: 'containerd', cmd: 'containerd', args: ['--version'] },
  { name: 'podman', cmd: 'podman', args: ['--version'] },
];

/** `Docker version 24.0.5, build ced0996` → `24.0.5`; `containerd github.com/... v1.7.2 x` → `1.7.2`. */
export function parseRuntimeVersion(output: string): string | undefined {
  const match = /\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)/.exec(output);
  return match?.[1]?.slice(0, 64);
}

function probe(cmd: string, args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      resolve(err ? undefined : String(stdout));
    });
  });
}

/** Container runtimes installed on the machine; missing or hanging CLIs are skipped. */
export async function detectRuntimes(timeoutMs = 2000): Promise<ContainerRuntime[]> {
  const found = await Promise.all(
    RUNTIME_PROBES.map(async ({ name, cmd, args }) => {
      const out = await probe(cmd, args, timeoutMs);
      const version = out ? parseRuntimeVersion(out) : undefined;
      return version ? { name, version } : undefined;
    }),
  );
  return found.filter((r): r is ContainerRuntime => r !== undefined);
}

export async function collectHostFacts(overrides: { hostname?: string; os?: { name: string; version: string } } = {}): Promise<HostFacts> {
  const [os, runtimes, bootId] = await Promise.all([
    overrides.os ? Promise.resolve(overrides.os) : readOsRelease(),
    detectRuntimes(),
    readBootId(),
  ]);
  return {
    hostname: (overrides.hostname ?? hostname()).slice(0, 253) || 'localhost',
    arch: machineArch(),
    os,
    kernel: release().slice(0, 128),
    runtimes,
    bootId,
  };
}
