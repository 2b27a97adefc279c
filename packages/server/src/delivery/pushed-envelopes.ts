import type { AckTargets } from './queue-reader.js';

/**
 * guid → queue position of envelopes pushed on one socket and not yet acked, so an ack
 * becomes a delete by id (these rows are this device's by construction). Created on
 * first use: idle sockets carry no map. Past `limit` entries, pushes go unrecorded and
 * their acks go by guid.
 */
export class PushedEnvelopes {
  private map: Map<string, number> | undefined;

  constructor(private readonly limit: number) {}

  add(e: { id: number; guid: string }): void {
    const map = (this.map ??= new Map());
    if (map.size < this.limit) map.set(e.guid, e.id);
  }

  has(guid: string): boolean {
    return this.map?.has(guid) === true;
  }

  /** Forgets the acked guids; those recorded come back as ids, the rest as guids. */
  take(guids: readonly string[]): AckTargets {
    const map = this.map;
    const targets: AckTargets = {};
    for (const guid of guids) {
      const id = map?.get(guid);
      if (id !== undefined) {
        map!.delete(guid);
        (targets.ids ??= []).push(id);
      } else (targets.guids ??= []).push(guid);
    }
    if (map?.size === 0) this.map = undefined;
    return targets;
  }
}
