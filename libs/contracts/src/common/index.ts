export * from './errors.js';
export * from './envelope.js';
export * from './subjects.js';
export * from './selector.js';
export * from './events.js';
export * from './ids.js';
