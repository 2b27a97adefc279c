/** The key under which a Client holds its services: exported by the testing entry only, never by the public index. */
export const SERVICES: unique symbol = Symbol('kluis.client.services');
