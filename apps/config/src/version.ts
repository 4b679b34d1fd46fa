export const CONFIG_VERSION = '0.1.0';
