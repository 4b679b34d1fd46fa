import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  CONFIG,
  CONFIG_BUNDLE_VERB,
  bundleRequestSchema,
  byNameSchema,
  canaryActionSchema,
  configVerbs,
  diffSchema,
  draftDiscardSchema,
  draftRemoveSchema,
  draftSetSchema,
  driftQuerySchema,
  effectiveQuerySchema,
  groupPutSchema,
  itemsListSchema,
  nodeStatusQuerySchema,
  profilePutSchema,
  provisioningVerbs,
  publishSchema,
  renderSchema,
  revisionGetSchema,
  revisionsListSchema,
  rollbackSchema,
  schemaDeleteSchema,
  schemaPutSchema,
  statusQuerySchema,
} from '#contracts/config';
import { MessageBus } from '#lib/messaging';
import { DraftService } from '../drafts/draft.service.js';
import { DesiredStateService } from '../nodes/desired-state.service.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { PublishService } from '../revisions/publish.service.js';
import { RevisionStore } from '../revisions/revision-store.js';
import { SchemaService } from '../schemas/schema.service.js';
import { StatusService } from '../status/status.service.js';

/** Every NATS verb of the config service, validated at the edge by the contracts' schemas. */
@Injectable()
export class ConfigApi {
  constructor(
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(RevisionStore) private readonly store: RevisionStore,
    @Inject(DraftService) private readonly drafts: DraftService,
    @Inject(PublishService) private readonly publisher: PublishService,
    @Inject(SchemaService) private readonly schemas: SchemaService,
    @Inject(StatusService) private readonly status: StatusService,
    @Inject(DesiredStateService) private readonly desired: DesiredStateService,
    @Inject(ProvisioningService) private readonly provisioning: ProvisioningService,
  ) {}

  serve(): void {
    const v = configVerbs;
    this.verb(v.itemsList, itemsListSchema, async ({ revision, pathPrefix }) => {
      const rev = revision ?? (await this.store.latest());
      const items = await this.store.items(rev);
      return { revision: rev, items: pathPrefix ? items.filter((i) => i.file.path.startsWith(pathPrefix)) : items };
    });
    this.verb(v.draftSet, draftSetSchema, ({ scope, file, author }) => this.drafts.set(scope, file, author));
    this.verb(v.draftRemove, draftRemoveSchema, ({ scope, path, author }) => this.drafts.remove(scope, path, author));
    this.verb(v.draftList, z.object({}).passthrough(), async () => ({ drafts: await this.drafts.list() }));
    this.verb(v.draftDiscard, draftDiscardSchema, () => this.drafts.discard());
    this.verb(v.validate, z.object({}).passthrough(), () => this.publisher.validateDraft());
    this.verb(v.publish, publishSchema, (input) => this.publisher.publish(input));
    this.verb(v.rollback, rollbackSchema, (input) => this.publisher.rollback(input));
    this.verb(v.revisions, revisionsListSchema, async ({ limit, before }) => ({ revisions: await this.store.list(limit, before) }));
    this.verb(v.revision, revisionGetSchema, async ({ revision }) => ({ ...(await this.store.get(revision)), items: await this.store.items(revision) }));
    this.verb(v.diff, diffSchema, ({ from, to }) => this.publisher.diff(from, to));
    this.verb(v.schemaPut, schemaPutSchema, ({ pattern, schema }) => this.schemas.put(pattern, schema));
    this.verb(v.schemaList, z.object({}).passthrough(), async () => ({ schemas: await this.schemas.list() }));
    this.verb(v.schemaDelete, schemaDeleteSchema, ({ pattern }) => this.schemas.delete(pattern));
    this.verb(v.status, statusQuerySchema, ({ nodeId }) => (nodeId ? this.status.node(nodeId) : this.status.fleet()));
    this.verb(v.nodeStatus, nodeStatusQuerySchema, ({ nodeId }) => this.status.node(nodeId));
    this.verb(v.drift, driftQuerySchema, async ({ limit }) => ({ nodes: await this.status.drifted(limit) }));
    this.verb(v.canaryPromote, canaryActionSchema, ({ author }) => this.publisher.promote(author));
    this.verb(v.canaryAbort, canaryActionSchema, ({ author }) => this.publisher.abort(author));
    this.verb(v.effective, effectiveQuerySchema, ({ nodeId }) => this.desired.bundleFor(nodeId));

    const p = provisioningVerbs;
    this.verb(p.profilePut, profilePutSchema, (input) => this.provisioning.putProfile(input));
    this.verb(p.profileGet, byNameSchema, ({ name }) => this.provisioning.getProfile(name));
    this.verb(p.profileList, z.object({}).passthrough(), async () => ({ profiles: await this.provisioning.listProfiles() }));
    this.verb(p.profileDelete, byNameSchema, ({ name }) => this.provisioning.deleteProfile(name));
    this.verb(p.groupPut, groupPutSchema, (input) => this.provisioning.putGroup(input));
    this.verb(p.groupGet, byNameSchema, ({ name }) => this.provisioning.getGroup(name));
    this.verb(p.groupList, z.object({}).passthrough(), async () => ({ groups: await this.provisioning.listGroups() }));
    this.verb(p.groupDelete, byNameSchema, ({ name }) => this.provisioning.deleteGroup(name));
    this.verb(p.render, renderSchema, (input) => this.provisioning.render(input));

    // Agent-facing: the node id comes from the subject, never from the body.
    this.bus.serve(this.bus.subjects.anyAgent(CONFIG_BUNDLE_VERB), {
      name: 'config.bundle',
      schema: bundleRequestSchema,
      maxBytes: 1024,
      trace: false,
      handler: (_input, ctx) => this.desired.bundleFor(ctx.nodeId!),
    });
  }

  private verb<S extends z.ZodType>(verb: string, schema: S, handler: (input: z.output<S>) => unknown): void {
    this.bus.serve(this.bus.subjects.svc(CONFIG, verb), { name: `config.${verb}`, schema, maxBytes: 1024 * 1024, handler });
  }
}
