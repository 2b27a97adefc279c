export { main, processIo } from './main.js';
export { buildProgram } from './program.js';
export type { CliIo } from './io.js';
export { CliError, UsageError } from './errors.js';
