export * from './agent-messages.js';
export * from './api.js';
export * from './events.js';
export * from './heartbeat-fast.js';
