export { startAppHost, type AppHost, type AppHostOptions } from './host.js';
export { AppError } from './errors.js';
