import type { Client } from '../client.js';
import type { ClientEvents, StoredMessage } from '../types.js';

/** Resolves with the first event args matching `pred`, or rejects after timeoutMs. */
export function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  pred: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, handler as never);
      reject(new Error(`timed out waiting for '${String(event)}'`));
    }, timeoutMs);
    const handler = (...args: ClientEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      client.off(event, handler as never);
      resolve(args);
    };
    client.on(event, handler as never);
  });
}

/** Collects 'message' events into an array. */
export function inbox(client: Client): StoredMessage[] {
  const seen: StoredMessage[] = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
