export * from './items.js';
export * from './api.js';
export * from './drift.js';
export * from './agent.js';
export * from './events.js';
export * from './hash.js';
export * from './paths.js';
export * from './provisioning.js';
