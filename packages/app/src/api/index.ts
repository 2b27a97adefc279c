/**
 * The contract between the app host (`kluis app`) and its page: routes, request and
 * response schemas, error codes, socket events. The page imports it type-only (its
 * bundle holds no TypeBox); the host serves it with Fastify.
 */
export * from './routes.js';
export * from './contract.js';
export * from './requests.js';
export * from './responses.js';
export * from './errors.js';
export type * from './events.js';
