import type { CommandGroup } from '../core/command.js';
import { fleetCommands } from './fleet.js';
import { nodesCommands } from './nodes.js';
import { tokensCommands } from './tokens.js';
import { auditCommands } from './audit.js';
import { updateCommandGroups } from './rollouts.js';
import { servicesCommands } from './services.js';
import { configCommands } from './config.js';
import { provisioningCommands } from './provisioning.js';

/**
 * Every area's commands, in the order `fleetctl --help` lists them. To add an area, write
 * `commands/<area>.ts` exporting a `CommandGroup` (see `nodes.ts`) and append it here.
 */
export const COMMAND_GROUPS: CommandGroup[] = [nodesCommands, fleetCommands, tokensCommands, auditCommands, ...updateCommandGroups, servicesCommands, configCommands, provisioningCommands];
