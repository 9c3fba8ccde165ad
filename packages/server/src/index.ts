export { buildServer, type CallwireServer } from './app.js';
export { parseConfig, helpText, ConfigError, type Config } from './config.js';
export { turnCredentials } from './ice.js';
