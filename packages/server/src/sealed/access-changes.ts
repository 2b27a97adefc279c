import { ACCESS_CHANGES_KEY, type Bus } from '../delivery/bus.js';
import type { Logger } from '../logger.js';
import type { AccessKeyCache } from './access-key-cache.js';

/**
 * How long a key change waits for the other nodes to confirm before answering anyway; one
 * that did not drops its whole cache at its next bus poll 'wake' (NatsBus: 10 s, 1 s degraded).
 */
const ACCESS_ACK_TIMEOUT_MS = 1000;

/**
 * After a committed change of an account's sealed access: drops it from this node's
 * access-key cache and every other node's, and resolves once each other live node
 * confirmed (or after ACCESS_ACK_TIMEOUT_MS). Never rejects.
 */
export function accessChangePublisher(deps: {
  accessKeys: AccessKeyCache;
  bus: Bus;
  log: Logger;
  /** Other nodes that are up or draining (the nodes registry): the confirmations to wait for. */
  otherListeningNodes: () => Promise<number>;
}): (accountId: string) => Promise<void> {
  const { accessKeys, bus, log } = deps;
  return async (accountId) => {
    // Here directly too: the bus may be closed, and a local publish must not be the only path.
    accessKeys.invalidate(accountId);
    const event = { type: 'access-changed', accountId } as const;
    try {
      if (!bus.publishAcked) return bus.publish(ACCESS_CHANGES_KEY, event);
      // Wait for every other node that can hear it: a publish alone can lose the race
      // against the client's next request through another node (seen in test/cluster).
      // Not-ready nodes are off the bus (they poll, and so drop their caches every second).
      let others = 0;
      try {
        others = await deps.otherListeningNodes();
      } catch (err) {
        log.error('node registry unreadable; access change published without waiting', err);
      }
      const confirmed = await bus.publishAcked(ACCESS_CHANGES_KEY, event, others, ACCESS_ACK_TIMEOUT_MS);
      if (confirmed < others) log.info(`access change confirmed by ${confirmed} of ${others} other nodes; the rest drop their caches at their next bus poll`);
    } catch (err) {
      log.error('access-change broadcast failed', err);
    }
  };
}
