export * from './data-source.js';
export * from './leader.js';
