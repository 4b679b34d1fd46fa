export * from './checks.js';
export * from './instances.js';
export * from './api.js';
export * from './agent-messages.js';
export * from './events.js';
export * from './check-state.js';
export * from './health.js';
export * from './query.js';
