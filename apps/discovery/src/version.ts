/** Reported by the ping verb; follows the package version. */
export const DISCOVERY_VERSION = '0.1.0';
