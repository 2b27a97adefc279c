export { loadServerConfig, serverConfigHelp, configDefaults, ConfigError } from './config.js';
export type { ServerConfig, ResolvedServerConfig, ConfigOption } from './config.js';
export { startServer, DATABASE_FILE } from './start-server.js';
export type { RunningServer, StartOptions } from './start-server.js';
export type { FirstStart } from './first-start.js';
export { OPERATOR_TOKEN_FILE } from './first-start.js';
export type { ExpiryResult } from './jobs/expiry.js';
export type { Bus, DeviceEvent, LiveEnvelope } from './delivery/bus.js';
export { LocalBus } from './delivery/local-bus.js';
