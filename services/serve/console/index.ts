// The web console: a fastify plugin the operator service registers (README, "Web console").
export { CONSOLE_CSP, consolePlugin, DEFAULT_ASSETS_DIR, DEFAULT_CLIENT_DIR } from './plugin.js';
export type { ConsoleOptions } from './plugin.js';
