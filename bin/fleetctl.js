#!/usr/bin/env node
// Thin launcher: the program itself is compiled TypeScript under dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/apps/cli/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('fleetctl: dist/ is missing; run "npm run build" in the Fleetcore checkout first.');
  process.exit(1);
}
const { run } = await import(entry.href);
await run();
