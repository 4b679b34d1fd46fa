/** Reported by the ping verb; follows the package version. */
export const INVENTORY_VERSION = '0.1.0';
