export * from './data-source.js';
export * from './leader.js';
export * from './elected-loop.js';
