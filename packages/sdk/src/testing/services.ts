import type { Client } from '../client.js';
import type { ClientServices } from '../client/create-client.js';
import { SERVICES } from '../client/services-key.js';

/**
 * For tests that must reach under the public interface (plant a fault, read the store as a
 * thief would): the client's services. Exported from '@kluis/sdk/testing', never from the index.
 */
export function servicesOf(client: Client): ClientServices {
  return client[SERVICES];
}

/** The pieces tests used most, by their short names. */
export function internalsOf(client: Client) {
  const s = servicesOf(client);
  return {
    store: s.ctx.store,
    data: s.ctx.data,
    conv: s.ctx.conv,
    convo: s.convo,
    receiver: s.receiver,
    sender: s.sender,
    adapters: () => s.ctx.adapters(),
    api: () => s.transport.api(),
    transport: () => s.transport,
  };
}
