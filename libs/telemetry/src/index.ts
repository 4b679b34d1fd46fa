export * from './logger.js';
export * from './metrics.js';
export * from './metrics-auth.js';
export * from './metrics-server.js';
export * from './tracing.js';
