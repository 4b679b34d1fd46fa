import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { CONFIG_EVENTS, type GroupView, type MachineSelector, type ProfileView } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { ConfigEvents } from '../events.js';
import { ignitionProblems } from './ignition-spec.js';
import { pickGroup, renderTemplate, templateValues, type MachineFacts } from './render.js';

interface ProfileRow {
  name: string;
  ignition: Record<string, unknown>;
  description: string | null;
  updated_at: Date;
}
interface GroupRow {
  name: string;
  profile: string;
  selector: MachineSelector;
  metadata: Record<string, string | number | boolean>;
  updated_at: Date;
}

/** First-boot provisioning: Ignition profiles, machine groups, and rendering per machine. */
@Injectable()
export class ProvisioningService {
  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(ConfigEvents) private readonly events: ConfigEvents,
  ) {}

  async putProfile(input: { name: string; ignition: Record<string, unknown>; description?: string }): Promise<ProfileView> {
    const problems = ignitionProblems(input.ignition);
    if (problems.length) {
      throw new FleetError('validation_failed', `profile ${input.name} is not a valid Ignition 3.4.0 config: ${problems.slice(0, 8).join('; ')}`, { problems });
    }
    const [row] = await this.db.query<ProfileRow>(
      `INSERT INTO "config"."profiles" ("name", "ignition", "description", "updated_at") VALUES ($1, $2::jsonb, $3, now())
       ON CONFLICT ("name") DO UPDATE SET "ignition" = EXCLUDED."ignition", "description" = EXCLUDED."description", "updated_at" = now()
       RETURNING *`,
      [input.name, JSON.stringify(input.ignition), input.description ?? null],
    );
    void this.events.emit(CONFIG_EVENTS.profileChanged, { name: input.name, deleted: false });
    return profileView(row);
  }

  async getProfile(name: string): Promise<ProfileView> {
    const [row] = await this.db.query<ProfileRow>('SELECT * FROM "config"."profiles" WHERE "name" = $1', [name]);
    if (!row) throw new FleetError('not_found', `no profile ${name}`);
    return profileView(row);
  }

  async listProfiles(): Promise<ProfileView[]> {
    return (await this.db.query<ProfileRow>('SELECT * FROM "config"."profiles" ORDER BY "name"')).map(profileView);
  }

  async deleteProfile(name: string): Promise<{ deleted: true }> {
    const used = await this.db.query<{ name: string }>('SELECT "name" FROM "config"."machine_groups" WHERE "profile" = $1', [name]);
    if (used.length) throw new FleetError('conflict', `profile ${name} is used by group(s) ${used.map((g) => g.name).join(', ')}`);
    const rows = await this.db.query('DELETE FROM "config"."profiles" WHERE "name" = $1 RETURNING 1', [name]);
    if (!rows.length) throw new FleetError('not_found', `no profile ${name}`);
    void this.events.emit(CONFIG_EVENTS.profileChanged, { name, deleted: true });
    return { deleted: true };
  }

  async putGroup(input: { name: string; profile: string; selector: MachineSelector; metadata: Record<string, string | number | boolean> }): Promise<GroupView> {
    const profile = await this.db.query('SELECT 1 FROM "config"."profiles" WHERE "name" = $1', [input.profile]);
    if (!profile.length) throw new FleetError('validation_failed', `group ${input.name}: profile ${input.profile} does not exist`);
    const [row] = await this.db.query<GroupRow>(
      `INSERT INTO "config"."machine_groups" ("name", "profile", "selector", "metadata", "updated_at") VALUES ($1, $2, $3::jsonb, $4::jsonb, now())
       ON CONFLICT ("name") DO UPDATE SET "profile" = EXCLUDED."profile", "selector" = EXCLUDED."selector", "metadata" = EXCLUDED."metadata", "updated_at" = now()
       RETURNING *`,
      [input.name, input.profile, JSON.stringify(input.selector), JSON.stringify(input.metadata)],
    );
    void this.events.emit(CONFIG_EVENTS.groupChanged, { name: input.name, deleted: false });
    return groupView(row);
  }

  async getGroup(name: string): Promise<GroupView> {
    const [row] = await this.db.query<GroupRow>('SELECT * FROM "config"."machine_groups" WHERE "name" = $1', [name]);
    if (!row) throw new FleetError('not_found', `no group ${name}`);
    return groupView(row);
  }

  async listGroups(): Promise<GroupView[]> {
    return (await this.db.query<GroupRow>('SELECT * FROM "config"."machine_groups" ORDER BY "name"')).map(groupView);
  }

  async deleteGroup(name: string): Promise<{ deleted: true }> {
    const rows = await this.db.query('DELETE FROM "config"."machine_groups" WHERE "name" = $1 RETURNING 1', [name]);
    if (!rows.length) throw new FleetError('not_found', `no group ${name}`);
    void this.events.emit(CONFIG_EVENTS.groupChanged, { name, deleted: true });
    return { deleted: true };
  }

  /** The rendered Ignition config for a machine, or `not_found` when no group matches it. */
  async render(machine: MachineFacts): Promise<{ group: string; profile: string; ignition: Record<string, unknown> }> {
    const groups = (await this.db.query<GroupRow>('SELECT * FROM "config"."machine_groups"')).map(groupView);
    const group = pickGroup(groups, machine);
    if (!group) throw new FleetError('not_found', 'no provisioning group matches this machine');
    const profile = await this.getProfile(group.profile);
    const ignition = renderTemplate(profile.ignition, templateValues(group, machine)) as Record<string, unknown>;
    const problems = ignitionProblems(ignition);
    if (problems.length) throw new FleetError('validation_failed', `rendered config is not valid Ignition 3.4.0: ${problems.slice(0, 5).join('; ')}`);
    return { group: group.name, profile: profile.name, ignition };
  }
}

function profileView(r: ProfileRow): ProfileView {
  return { name: r.name, ignition: r.ignition, ...(r.description ? { description: r.description } : {}), updatedAt: r.updated_at.toISOString() };
}

function groupView(r: GroupRow): GroupView {
  return { name: r.name, profile: r.profile, selector: r.selector, metadata: r.metadata, updatedAt: r.updated_at.toISOString() };
}
