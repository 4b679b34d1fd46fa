import { describe, expect, it } from 'vitest';
import { parseMemAvailable } from '../runtime/host-status.js';
import { machineArch, parseRuntimeVersion } from './host-facts.js';

describe('host facts', () => {
  it('maps Node architecture names to the kernel names OS images use', () => {
    expect(machineArch('x64')).toBe('x86_64');
    expect(machineArch('arm64')).toBe('aarch64');
    expect(machineArch('s390x')).toBe('s390x');
    expect(machineArch('mips')).toBe('mips');
  });

  it('reads versions from the container runtimes\' --version output', () => {
    expect(parseRuntimeVersion('Docker version 24.0.5, build ced0996')).toBe('24.0.5');
    expect(parseRuntimeVersion('containerd github.com/containerd/containerd v1.7.2 0cae528dd6cb557f7201036e9f43420650207b58')).toBe('1.7.2');
    expect(parseRuntimeVersion('podman version 4.3.1')).toBe('4.3.1');
    expect(parseRuntimeVersion('podman version 5.0.0-rc1')).toBe('5.0.0-rc1');
    expect(parseRuntimeVersion('no version here')).toBeUndefined();
  });

  it('reads MemAvailable from /proc/meminfo in bytes', () => {
    expect(parseMemAvailable('MemTotal:       16318000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n')).toBe(8_192_000_000);
    expect(parseMemAvailable('MemTotal: 1 kB\n')).toBeUndefined();
  });
});
