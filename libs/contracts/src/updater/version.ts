import { z } from 'zod';

/**
 * OS versions are "semver-ish": dot-separated numeric parts of any count (`3815.2.0`,
 * `39.20240112.3.0`, `1.2`), an optional pre-release after `-` and optional build metadata
 * after `+` (ignored when comparing).
 */
export const VERSION_PATTERN = /^\d{1,12}(\.\d{1,12}){0,5}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

export const versionSchema = z.string().max(64).regex(VERSION_PATTERN, 'version: numeric dot parts, optional -prerelease and +build');

function splitVersion(version: string): { core: number[]; pre: string[] } {
  const withoutBuild = version.split('+', 1)[0];
  const dash = withoutBuild.indexOf('-');
  const coreText = dash < 0 ? withoutBuild : withoutBuild.slice(0, dash);
  const preText = dash < 0 ? '' : withoutBuild.slice(dash + 1);
  return { core: coreText.split('.').map((p) => Number(p)), pre: preText ? preText.split('.') : [] };
}

function comparePre(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an) return -1; // numeric identifiers sort before alphanumeric ones (semver 11.4.3)
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two versions: negative when `a < b`, 0 when equal (build metadata ignored), positive
 * when `a > b`. Missing numeric parts count as 0 (`1.2` == `1.2.0`); a pre-release sorts before
 * its release (`1.0.0-rc.1` < `1.0.0`).
 */
export function compareVersions(a: string, b: string): number {
  const va = splitVersion(a);
  const vb = splitVersion(b);
  const n = Math.max(va.core.length, vb.core.length);
  for (let i = 0; i < n; i++) {
    const d = (va.core[i] ?? 0) - (vb.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (va.pre.length === 0 || vb.pre.length === 0) return va.pre.length === vb.pre.length ? 0 : va.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(va.pre.length, vb.pre.length); i++) {
    const d = comparePre(va.pre[i], vb.pre[i]);
    if (d !== 0) return d;
  }
  return Math.sign(va.pre.length - vb.pre.length);
}
