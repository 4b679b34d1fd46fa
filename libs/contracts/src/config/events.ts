/** Events on `<root>.events.config.<event>`. */
export const CONFIG_EVENTS = {
  published: 'revision.published',
  rolledBack: 'revision.rolled_back',
  canaryStarted: 'canary.started',
  canaryPromoted: 'canary.promoted',
  canaryAborted: 'canary.aborted',
  applied: 'node.applied',
  applyFailed: 'node.apply_failed',
  drift: 'node.drift',
  schemaChanged: 'schema.changed',
  profileChanged: 'provisioning.profile_changed',
  groupChanged: 'provisioning.group_changed',
} as const;
