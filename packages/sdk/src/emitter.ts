import { EventEmitter } from 'node:events';

/** A typed EventEmitter: `on('message', (m) => …)` knows the argument types. */
export class TypedEmitter<T extends Record<keyof T, unknown[]>> extends EventEmitter<T> {}
