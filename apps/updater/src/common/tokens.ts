/** Nest injection tokens for what `startUpdaterService` builds before Nest boots. */
export const UPDATER_ENV = Symbol('UPDATER_ENV');
export const UPDATER_DB = Symbol('UPDATER_DB');
export const UPDATER_BUS = Symbol('UPDATER_BUS');
