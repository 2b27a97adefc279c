import type { ClientDiagnostics } from '@kluis/sdk';

/** A request still unanswered after this long is logged, once, with what the client is doing. */
export const SLOW_REQUEST_MS = 15_000;
const CHECK_EVERY_MS = 5_000;

interface Watched {
  what: string;
  since: number;
  logged: boolean;
}

/**
 * Notices API requests that hang. A stuck send shows in the page only as a spinner; the
 * host's log then says which request waits and which locks and server requests the SDK
 * is waiting on. Lines name routes and counts, never message contents or usernames.
 */
export class SlowRequestWatch {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: (line: string) => void,
    private readonly diagnostics: () => ClientDiagnostics | undefined,
    private readonly slowMs = SLOW_REQUEST_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call the returned function when the request is answered. */
  start(what: string): () => void {
    const w: Watched = { what, since: this.now(), logged: false };
    this.watched.add(w);
    this.timer ??= setInterval(() => this.check(), Math.min(CHECK_EVERY_MS, this.slowMs)).unref();
    return () => {
      this.watched.delete(w);
      if (w.logged) this.log(`kluis app: ${w.what} answered after ${Math.round((this.now() - w.since) / 1000)} s`);
      if (this.watched.size === 0) this.stop();
    };
  }

  check(): void {
    const now = this.now();
    for (const w of this.watched) {
      if (w.logged || now - w.since < this.slowMs) continue;
      w.logged = true;
      const d = this.diagnostics();
      this.log(`kluis app: ${w.what} still waiting after ${Math.round((now - w.since) / 1000)} s; client: ${d ? describe(d) : 'locked'}`);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function describe(d: ClientDiagnostics): string {
  // Lock keys are account ids: say how many and how long, not whose.
  const locks = d.locks.map((l) => `${l.key.startsWith('group:') ? 'group' : 'account'} ${Math.round(l.heldMs / 1000)} s (${l.waiting} waiting)`);
  const http = d.http.map((r) => `${r.route} ${Math.round(r.ms / 1000)} s`);
  return [
    d.connected ? 'connected' : 'not connected',
    `locks held: ${locks.join(', ') || 'none'}`,
    `server requests: ${http.join(', ') || 'none'}`,
    `socket sends waiting: ${d.socketRequests}`,
    `received, not processed: ${d.receiveBacklog}`,
  ].join('; ');
}
