import { TypedEmitter } from '../emitter.js';
import { asError } from '../errors.js';
import type { ClientEvents } from '../types.js';

/** The client's events: one emitter per client, handed to every service that reports something. */
export class ClientEmitter extends TypedEmitter<ClientEvents> {
  /** 'error' without a listener would throw from EventEmitter; background errors must not crash the host. */
  safeEmit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: K, ...a: ClientEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      if (event !== 'error' && this.listenerCount('error') > 0) this.emit('error', asError(e));
    }
  }
}
