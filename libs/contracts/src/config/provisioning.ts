import { z } from 'zod';

/**
 * First-boot provisioning (Matchbox-style): a profile is an Ignition v3.4 config template whose
 * strings may contain `{{name}}` placeholders; a group matches machines by selector and names the
 * profile and the metadata filled into it. Verbs on `<root>.svc.config.provisioning.<verb>`.
 */
export const provisioningVerbs = {
  profilePut: 'provisioning.profiles.put',
  profileGet: 'provisioning.profiles.get',
  profileList: 'provisioning.profiles.list',
  profileDelete: 'provisioning.profiles.delete',
  groupPut: 'provisioning.groups.put',
  groupGet: 'provisioning.groups.get',
  groupList: 'provisioning.groups.list',
  groupDelete: 'provisioning.groups.delete',
  render: 'provisioning.render',
} as const;

const name = z.string().regex(/^[a-z0-9]([a-z0-9_.-]{0,62})$/, 'name: 1-63 of a-z 0-9 _ . -, starting alphanumeric');

export const profilePutSchema = z.object({
  name,
  /** An Ignition config (spec 3.4.0) with optional `{{placeholder}}`s in string values. */
  ignition: z.record(z.string(), z.unknown()),
  description: z.string().max(1024).optional(),
});
export const profileViewSchema = profilePutSchema.extend({ updatedAt: z.string() });
export type ProfileView = z.output<typeof profileViewSchema>;

/** A group without any selector field is the default group. */
export const machineSelectorSchema = z
  .object({
    mac: z.string().max(64).optional(),
    uuid: z.string().max(64).optional(),
    hostname: z.string().max(253).optional(),
    /** Any other facts the machine sends as query parameters, matched exactly. */
    labels: z.record(z.string(), z.string().max(253)).optional(),
  })
  .strict();
export type MachineSelector = z.output<typeof machineSelectorSchema>;

export const groupPutSchema = z.object({
  name,
  profile: name,
  selector: machineSelectorSchema.default({}),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export const groupViewSchema = groupPutSchema.extend({ updatedAt: z.string() });
export type GroupView = z.output<typeof groupViewSchema>;

export const byNameSchema = z.object({ name });

/** What a booting machine tells us: mac, uuid, hostname and any other key=value facts. */
export const renderSchema = z.object({
  mac: z.string().max(64).optional(),
  uuid: z.string().max(64).optional(),
  hostname: z.string().max(253).optional(),
  labels: z.record(z.string().max(63), z.string().max(253)).default({}),
});
export type RenderQuery = z.input<typeof renderSchema>;

export const renderReplySchema = z.object({ group: z.string(), profile: z.string(), ignition: z.record(z.string(), z.unknown()) });
