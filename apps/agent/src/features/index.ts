import type { AgentFeatureFactory } from '../feature.js';
import { updatesFeature } from './updates/updates.feature.js';
import { configFeature } from './config/config.feature.js';
import { discoveryFeature } from './discovery/discovery.feature.js';

/**
 * Every feature the agent runs, real or simulated. Each feature adds one import and one line
 * here; its config file section is named after `feature.name`.
 */
export const agentFeatures: AgentFeatureFactory[] = [updatesFeature, configFeature, discoveryFeature];
