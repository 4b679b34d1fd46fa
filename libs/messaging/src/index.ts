export * from './bus.js';
export * from './codec.js';
export * from './connect.js';
export * from './messaging.module.js';
export * from './durable.js';
export * from './platform-registration.js';
export * from './inventory-match.js';
export * from './batched.js';
