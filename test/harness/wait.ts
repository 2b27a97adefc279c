/** Polls `check` until it returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Collects the events an emitter fires, for counting "sent = received, exactly once". */
export function collect<T>(emitter: { on(event: string, fn: (v: T) => void): unknown }, event: string): T[] {
  const seen: T[] = [];
  emitter.on(event, (v: T) => seen.push(v));
  return seen;
}
