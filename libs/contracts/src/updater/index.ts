/**
 * Contracts of the updater service: releases, the update graph, rollouts, the reboot semaphore
 * and the agent update protocol. API verbs: `<root>.svc.updater.<verb>`.
 */
export const UPDATER = 'updater';
export const updaterVerbs = {
  createRelease: 'releases.create',
  listReleases: 'releases.list',
  getRelease: 'releases.get',
  withdrawRelease: 'releases.withdraw',
  deadEnds: 'releases.dead-ends',
  flagNodes: 'releases.flag-nodes',
  graph: 'graph',
  createRollout: 'rollouts.create',
  listRollouts: 'rollouts.list',
  getRollout: 'rollouts.get',
  pauseRollout: 'rollouts.pause',
  resumeRollout: 'rollouts.resume',
  abortRollout: 'rollouts.abort',
  rollbackRollout: 'rollouts.rollback',
  rolloutNodes: 'rollouts.nodes',
  listLocks: 'locks.list',
  acquireLock: 'locks.acquire',
  releaseLock: 'locks.release',
  forceReleaseLock: 'locks.force-release',
  getGroupPolicy: 'locks.policy.get',
  setGroupPolicy: 'locks.policy.set',
} as const;

export * from './version.js';
export * from './releases.js';
export * from './graph.js';
export * from './windows.js';
export * from './rollouts.js';
export * from './agent-protocol.js';
export * from './locks.js';
export * from './events.js';
