import type { Bus, DeviceEvent, DeviceEventHandler } from './bus.js';

/**
 * In-process bus: synchronous delivery, so an event published right after a commit
 * reaches the socket in commit order. A key usually has one handler, stored bare to
 * keep idle connections cheap.
 */
export class LocalBus implements Bus {
  private readonly handlers = new Map<string, DeviceEventHandler | DeviceEventHandler[]>();

  publish(key: string, event: DeviceEvent): void {
    const entry = this.handlers.get(key);
    if (entry === undefined) return;
    if (typeof entry === 'function') {
      entry(event);
      return;
    }
    // Copy: a handler may unsubscribe (close its socket) while we iterate.
    for (const handler of entry.slice()) handler(event);
  }

  subscribe(key: string, handler: DeviceEventHandler): () => void {
    const entry = this.handlers.get(key);
    if (entry === undefined) this.handlers.set(key, handler);
    else if (typeof entry === 'function') this.handlers.set(key, [entry, handler]);
    else entry.push(handler);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.handlers.get(key);
      if (current === handler) this.handlers.delete(key);
      else if (Array.isArray(current)) {
        const rest = current.filter((h) => h !== handler);
        if (rest.length === 0) this.handlers.delete(key);
        else this.handlers.set(key, rest.length === 1 ? rest[0]! : rest);
      }
    };
  }

  get size(): number {
    return this.handlers.size;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
