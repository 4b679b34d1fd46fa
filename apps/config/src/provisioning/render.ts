import { FleetError } from '#contracts/common';
import type { GroupView, MachineSelector } from '#contracts/config';

export interface MachineFacts {
  mac?: string;
  uuid?: string;
  hostname?: string;
  labels: Record<string, string>;
}

/** MACs compare case-insensitively and with `-` or `:` separators. */
export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** True when every field the selector names equals the machine's; an empty selector matches all. */
export function machineMatches(selector: MachineSelector, m: MachineFacts): boolean {
  if (selector.mac !== undefined && (m.mac === undefined || normalizeMac(selector.mac) !== normalizeMac(m.mac))) return false;
  if (selector.uuid !== undefined && (m.uuid === undefined || selector.uuid.toLowerCase() !== m.uuid.toLowerCase())) return false;
  if (selector.hostname !== undefined && selector.hostname !== m.hostname) return false;
  for (const [k, v] of Object.entries(selector.labels ?? {})) if (m.labels[k] !== v) return false;
  return true;
}

export function selectorSize(selector: MachineSelector): number {
  return (selector.mac ? 1 : 0) + (selector.uuid ? 1 : 0) + (selector.hostname ? 1 : 0) + Object.keys(selector.labels ?? {}).length;
}

/**
 * Picks the group for a machine, Matchbox-style: among matching groups the one whose selector
 * names the most fields wins (a group without selector is the default and loses to any match);
 * ties go to the group name that sorts first.
 */
export function pickGroup<G extends Pick<GroupView, 'name' | 'selector'>>(groups: readonly G[], m: MachineFacts): G | undefined {
  return groups
    .filter((g) => machineMatches(g.selector, m))
    .sort((a, b) => selectorSize(b.selector) - selectorSize(a.selector) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * Fills `{{name}}` placeholders in every string of the template. Values come from the group's
 * metadata, then the machine (`mac`, `uuid`, `hostname`, `labels.<k>`, `group`). Inside `data:`
 * URLs substituted values are percent-encoded so the URL stays valid. A placeholder without a
 * value is an error naming it, never an empty string.
 */
export function renderTemplate(template: unknown, values: Record<string, string>): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const dataUrl = v.startsWith('data:');
      return v.replace(PLACEHOLDER, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new FleetError('validation_failed', `template placeholder {{${name}}} has no value`);
        return dataUrl ? encodeURIComponent(value) : value;
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(template);
}

export function templateValues(group: Pick<GroupView, 'name' | 'metadata'>, m: MachineFacts): Record<string, string> {
  const values: Record<string, string> = { group: group.name };
  if (m.mac) values.mac = normalizeMac(m.mac);
  if (m.uuid) values.uuid = m.uuid;
  if (m.hostname) values.hostname = m.hostname;
  for (const [k, v] of Object.entries(m.labels)) values[`labels.${k}`] = v;
  for (const [k, v] of Object.entries(group.metadata)) values[k] = String(v);
  return values;
}

/** Placeholder names a template uses (for the docs and for warnings when saving a group). */
export function placeholders(template: unknown): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) names.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(template);
  return [...names].sort();
}
